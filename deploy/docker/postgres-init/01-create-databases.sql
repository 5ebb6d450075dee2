-- One database per service, all owned by the compose superuser (POSTGRES_USER).
-- The postgres image runs this once, against POSTGRES_DB, only when its data
-- volume is empty: after changing it, `docker compose down -v` to re-run it.
-- Services never read each other's databases; migrations create the tables.
CREATE DATABASE gateway;
CREATE DATABASE referral;
CREATE DATABASE assessment;
CREATE DATABASE reporting;
