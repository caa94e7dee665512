-- Run once by the postgres image on an empty data volume (docker-entrypoint-initdb.d), as POSTGRES_USER.
-- Each service owns its database and no service reads another's tables (SPEC section 2).
-- A new service: add its database here. An existing volume is not re-initialised: create the
-- database by hand there (docker compose exec postgres createdb -U steadfast NAME).
CREATE DATABASE staff;
CREATE DATABASE caseload;
CREATE DATABASE audit;
CREATE DATABASE metrics;
