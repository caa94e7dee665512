"""A council's 2022 CSWW census return, with the HR extract it was produced from.

Twenty workers: case holders and workers without cases, senior practitioners, managers, an IRO and a
principal social worker; permanent, fixed-term and agency; starters in the year (with their origin),
leavers in the year (with destination and reason; two not yet recorded as leavers in HR), absences on
30 September, working days lost, contract weeks, CFKSS statuses, qualifications. The XML is written
here by hand, element by element, not by the code under test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from xml.sax.saxutils import escape

YEAR = 2022
REFERENCE_DATE = date(2022, 9, 30)


@dataclass
class SampleWorker:
    external_id: str
    name: str
    role: str
    employment_type: str
    fte: str
    team: str
    start: str
    number: str  # as HR holds it: SW and up to eight digits
    census: dict[str, list[str]]  # the census elements (after SWENo), in the schema's order
    end: str | None = None  # HR's end_date (first day not in post); None when HR has not recorded it
    leaving_reason: str = ""
    hr_knows_leaving: bool = True
    extra: dict[str, str] = field(default_factory=dict)

    def census_number(self) -> str:
        return "SW" + self.number[2:].zfill(10)


def _c(**elements: str | list[str]) -> dict[str, list[str]]:
    return {k: v if isinstance(v, list) else [v] for k, v in elements.items()}


def _leaver(last_day: str) -> str:
    return (date.fromisoformat(last_day) + timedelta(days=1)).isoformat()


WORKERS: list[SampleWorker] = [
    SampleWorker(
        "HR101",
        "Amara Okafor",
        "social_worker",
        "permanent",
        "1",
        "ACIN1",
        "2016-09-05",
        "SW104729",
        _c(
            AgencyWorker="0",
            FTE="1.000000",
            QualInst=["University of Kent"],
            QualLevel="1",
            StepUpGrad="0",
            OrgRole="5",
            RoleStartDate="2016-09-05",
            FTE30="1.000000",
            Cases30="17",
            WorkingDaysLost="3.50",
            FrontlineGrad="0",
            Absat30Sept="0",
            CFKSSstatus="2",
        ),
    ),
    SampleWorker(
        "HR102",
        "Ben Whitfield",
        "social_worker",
        "permanent",
        "0.8",
        "ACIN1",
        "2021-10-18",
        "SW112648",
        _c(
            AgencyWorker="0",
            FTE="0.800000",
            QualInst="Goldsmiths, University of London",
            QualLevel="2",
            StepUpGrad="1",
            OrgRole="5",
            RoleStartDate="2021-10-18",
            StartOrigin="1",
            FTE30="0.800000",
            Cases30="12",
            WorkingDaysLost="0.00",
            FrontlineGrad="0",
            Absat30Sept="0",
            CFKSSstatus="1",
        ),
    ),
    SampleWorker(
        "HR103",
        "Chloe Nowak",
        "social_worker",
        "agency",
        "1",
        "ACIN2",
        "2022-02-07",
        "SW120567",
        _c(
            AgencyWorker="1",
            FTE="1.000000",
            QualInst="University of Bedfordshire",
            OrgRole="5",
            RoleStartDate="2022-02-07",
            StartOrigin="4",
            FTE30="1.000000",
            Cases30="19",
            ContractWeeks="33.5",
            Absat30Sept="0",
        ),
    ),
    SampleWorker(
        "HR104",
        "Dev Patel",
        "senior_social_worker",
        "permanent",
        "1",
        "ACIN2",
        "2012-04-02",
        "SW128486",
        _c(
            AgencyWorker="0",
            FTE="1.000000",
            QualInst=["Brunel University London", "Open University"],
            QualLevel="3",
            OrgRole="4",
            RoleStartDate="2012-04-02",
            FTE30="1.000000",
            Cases30="14",
            WorkingDaysLost="12.00",
            Absat30Sept="1",
            ReasonAbsence="SIC",
            CFKSSstatus="2",
        ),
    ),
    SampleWorker(
        "HR105",
        "Ewa Brennan",
        "consultant_practitioner",
        "permanent",
        "1",
        "PC3",
        "2010-05-04",
        "SW136405",
        _c(
            AgencyWorker="0",
            FTE="1.000000",
            QualInst="University of Sussex",
            QualLevel="2",
            OrgRole="4",
            RoleStartDate="2010-05-04",
            FTE30="1.000000",
            Cases30="8",
            Absat30Sept="0",
            CFKSSstatus=["2", "3"],
        ),
    ),
    SampleWorker(
        "HR106",
        "Farid Adeyemi",
        "practice_manager",
        "permanent",
        "1",
        "PC3",
        "2015-01-12",
        "SW144324",
        _c(
            AgencyWorker="0",
            FTE="1.000000",
            QualInst="University of Kent",
            QualLevel="1",
            OrgRole="3",
            RoleStartDate="2015-01-12",
            FTE30="1.000000",
            Absat30Sept="0",
            CFKSSstatus="3",
        ),
    ),
    SampleWorker(
        "HR107",
        "Grace Lindqvist",
        "head_of_service",
        "permanent",
        "1",
        "MGMT",
        "2009-11-02",
        "SW152243",
        _c(
            AgencyWorker="0",
            FTE="1.000000",
            QualInst="University of Oxford",
            QualLevel="2",
            OrgRole="1",
            RoleStartDate="2009-11-02",
            FTE30="1.000000",
            Absat30Sept="0",
            CFKSSstatus="4",
        ),
    ),
    SampleWorker(
        "HR108",
        "Hamza Moss",
        "independent_reviewing_officer",
        "permanent",
        "0.6",
        "IRO",
        "2018-03-05",
        "SW160162",
        _c(
            AgencyWorker="0",
            FTE="0.600000",
            QualInst="Canterbury Christ Church University",
            QualLevel="1",
            OrgRole="6",
            RoleStartDate="2018-03-05",
            FTE30="0.600000",
            Absat30Sept="1",
            ReasonAbsence="MAT",
        ),
    ),
    SampleWorker(
        "HR109",
        "Isla Quinn",
        "principal_social_worker",
        "permanent",
        "1",
        "MGMT",
        "2017-06-19",
        "SW168081",
        _c(
            AgencyWorker="0",
            FTE="1.000000",
            QualInst="University of Birmingham",
            QualLevel="2",
            OrgRole="2",
            RoleStartDate="2017-06-19",
            FTE30="1.000000",
            Absat30Sept="0",
            CFKSSstatus="4",
        ),
    ),
    SampleWorker(
        "HR110",
        "Jonah Okafor",
        "social_worker",
        "fixed_term",
        "0.5",
        "ACIN1",
        "2022-06-06",
        "SW176000",
        _c(
            AgencyWorker="0",
            FTE="0.500000",
            QualInst="University of Kent",
            QualLevel="1",
            OrgRole="6",
            RoleStartDate="2022-06-06",
            StartOrigin="2",
            FTE30="0.500000",
            Cases30="0",
            WorkingDaysLost="1.00",
            Absat30Sept="1",
            ReasonAbsence="TRN",
        ),
    ),
    SampleWorker(
        "HR111",
        "Kemi Whitfield",
        "senior_social_worker",
        "agency",
        "1",
        "ACIN2",
        "2021-11-29",
        "SW183919",
        _c(
            AgencyWorker="1",
            FTE="1.000000",
            QualInst="University of Hertfordshire",
            OrgRole="5",
            RoleStartDate="2021-11-29",
            StartOrigin="4",
            FTE30="1.000000",
            Cases30="21",
            ContractWeeks=["20.0", "24.5"],
            Absat30Sept="0",
        ),
    ),
    SampleWorker(
        "HR112",
        "Leon Nowak",
        "social_worker",
        "permanent",
        "1",
        "PC3",
        "2019-09-02",
        "SW191838",
        _c(
            AgencyWorker="0",
            FTE="1.000000",
            QualInst="Royal Holloway, University of London",
            QualLevel="2",
            StepUpGrad="0",
            OrgRole="5",
            RoleStartDate="2019-09-02",
            FTE30="1.000000",
            Cases30="16",
            WorkingDaysLost="22.50",
            FrontlineGrad="1",
            Absat30Sept="1",
            ReasonAbsence=["SIC", "UNP"],
            CFKSSstatus="2",
        ),
    ),
    # Leavers in the year.
    SampleWorker(
        "HR113",
        "Maya Patel",
        "social_worker",
        "permanent",
        "1",
        "ACIN1",
        "2014-09-01",
        "SW199757",
        _c(
            AgencyWorker="0",
            FTE="1.000000",
            QualInst="University of Kent",
            QualLevel="1",
            OrgRole="5",
            RoleStartDate="2014-09-01",
            RoleEndDate="2022-03-31",
            LeaverDestination="1",
            ReasonLeave="1",
            WorkingDaysLost="4.00",
            CFKSSstatus="2",
        ),
        end=_leaver("2022-03-31"),
        leaving_reason="resignation",
    ),
    SampleWorker(
        "HR114",
        "Nia Brennan",
        "senior_social_worker",
        "permanent",
        "1",
        "ACIN2",
        "2008-01-07",
        "SW207676",
        _c(
            AgencyWorker="0",
            FTE="1.000000",
            QualInst="University of Sussex",
            QualLevel="1",
            OrgRole="4",
            RoleStartDate="2008-01-07",
            RoleEndDate="2021-12-31",
            LeaverDestination="6",
            ReasonLeave="5",
        ),
        end=_leaver("2021-12-31"),
        leaving_reason="retirement",
    ),
    SampleWorker(
        "HR115",
        "Omar Adeyemi",
        "social_worker",
        "agency",
        "1",
        "ACIN2",
        "2021-06-07",
        "SW215595",
        _c(
            AgencyWorker="1",
            FTE="1.000000",
            QualInst="University of Greenwich",
            OrgRole="5",
            RoleStartDate="2021-06-07",
            RoleEndDate="2022-05-27",
            LeaverDestination="3",
            ReasonLeave="8",
            ContractWeeks="50.0",
        ),
        end=_leaver("2022-05-27"),
        leaving_reason="end_of_contract",
    ),
    SampleWorker(
        "HR116",
        "Priya Lindqvist",
        "social_worker",
        "permanent",
        "0.8",
        "PC3",
        "2017-02-13",
        "SW223514",
        _c(
            AgencyWorker="0",
            FTE="0.800000",
            QualInst="University of Kent",
            QualLevel="2",
            OrgRole="6",
            RoleStartDate="2017-02-13",
            RoleEndDate="2022-07-15",
            LeaverDestination="5",
            ReasonLeave="7",
        ),
        end=_leaver("2022-07-15"),
        leaving_reason="other",
    ),
    # Leavers HR has not recorded yet: the census import records their leaving.
    SampleWorker(
        "HR117",
        "Quentin Moss",
        "practice_manager",
        "permanent",
        "1",
        "ACIN1",
        "2013-10-07",
        "SW231433",
        _c(
            AgencyWorker="0",
            FTE="1.000000",
            QualInst="University of Essex",
            QualLevel="2",
            OrgRole="3",
            RoleStartDate="2013-10-07",
            RoleEndDate="2022-08-31",
            LeaverDestination="1",
            ReasonLeave="2",
        ),
        end=_leaver("2022-08-31"),
        leaving_reason="voluntary_redundancy",
        hr_knows_leaving=False,
    ),
    SampleWorker(
        "HR118",
        "Rosa Quinn",
        "social_worker",
        "permanent",
        "1",
        "ACIN2",
        "2020-01-06",
        "SW239352",
        _c(
            AgencyWorker="0",
            FTE="1.000000",
            QualInst="University of Bedfordshire",
            QualLevel="1",
            OrgRole="5",
            RoleStartDate="2020-01-06",
            RoleEndDate="2021-11-12",
            LeaverDestination="9",
            ReasonLeave="10",
        ),
        end=_leaver("2021-11-12"),
        leaving_reason="unknown",
        hr_knows_leaving=False,
    ),
    # A starter and leaver in the same year, and a worker on a September start.
    SampleWorker(
        "HR119",
        "Sami Okafor",
        "social_worker",
        "agency",
        "0.6",
        "ACIN1",
        "2022-01-10",
        "SW247271",
        _c(
            AgencyWorker="1",
            FTE="0.600000",
            QualInst="University of Kent",
            OrgRole="5",
            RoleStartDate="2022-01-10",
            StartOrigin="4",
            RoleEndDate="2022-04-29",
            LeaverDestination="3",
            ReasonLeave="1",
            ContractWeeks="16.0",
        ),
        end=_leaver("2022-04-29"),
        leaving_reason="resignation",
    ),
    SampleWorker(
        "HR120",
        "Tara Whitfield",
        "social_worker",
        "permanent",
        "1",
        "PC3",
        "2022-09-05",
        "SW255190",
        _c(
            AgencyWorker="0",
            FTE="1.000000",
            QualInst="University of Sussex",
            QualLevel="2",
            OrgRole="5",
            RoleStartDate="2022-09-05",
            StartOrigin="1",
            FTE30="1.000000",
            Cases30="4",
            Absat30Sept="0",
            CFKSSstatus="1",
        ),
    ),
]


def workers_csv(workers: list[SampleWorker] = WORKERS) -> str:
    lines = [
        "external_id,display_name,role,employment_type,fte,team,start_date,end_date,leaving_reason,"
        "swe_registration_number,swe_registration_expiry"
    ]
    for w in workers:
        end = w.end if w.hr_knows_leaving and w.end else ""
        reason = w.leaving_reason if end else ""
        lines.append(
            f"{w.external_id},{w.name},{w.role},{w.employment_type},{w.fte},{w.team},{w.start},{end},{reason},"
            f"{w.number},2022-11-30"
        )
    return "\n".join(lines) + "\n"


def item_xml(w: SampleWorker, census: dict[str, list[str]] | None = None, number: str | None = None) -> str:
    census = w.census if census is None else census
    elements = dict(census)
    parts = [f"<AgencyWorker>{elements.pop('AgencyWorker')[0]}</AgencyWorker>"]
    parts.append(f"<SWENo>{number or w.census_number()}</SWENo>")
    for name, values in elements.items():
        parts.extend(f"<{name}>{escape(v)}</{name}>" for v in values)
    return "  <CSWWWorker>\n    " + "\n    ".join(parts) + "\n  </CSWWWorker>\n"


def census_xml(items: list[str] | None = None, *, header: bool = True) -> str:
    items = [item_xml(w) for w in WORKERS] if items is None else items
    head = (
        "  <Header>\n    <CollectionDetails>\n      <Collection>CSWW</Collection>\n"
        f"      <Year>{YEAR}</Year>\n      <ReferenceDate>{REFERENCE_DATE}</ReferenceDate>\n"
        "    </CollectionDetails>\n    <Source>\n      <SourceLevel>L</SourceLevel>\n      <LEA>871</LEA>\n"
        "      <SoftwareCode>Liquidlogic</SoftwareCode>\n      <DateTime>2022-10-14T09:30:00</DateTime>\n"
        "    </Source>\n  </Header>\n"
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Message>\n'
        + (head if header else "")
        + "  <LALevelVacancies>\n    <NumberOfVacancies>3.00</NumberOfVacancies>\n"
        "    <NoAgencyFTE>2.00</NoAgencyFTE>\n    <NoAgencyHeadcount>2</NoAgencyHeadcount>\n"
        "  </LALevelVacancies>\n" + "".join(items) + "</Message>\n"
    )
