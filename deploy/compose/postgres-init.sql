-- One database and one role per service: no service reads another's tables.
-- Development passwords (compose only); Kubernetes takes them from Secrets.
CREATE ROLE intake LOGIN PASSWORD 'intake';
CREATE DATABASE intake OWNER intake;
CREATE ROLE routing LOGIN PASSWORD 'routing';
CREATE DATABASE routing OWNER routing;
CREATE ROLE surveys LOGIN PASSWORD 'surveys';
CREATE DATABASE surveys OWNER surveys;
CREATE ROLE analytics LOGIN PASSWORD 'analytics';
CREATE DATABASE analytics OWNER analytics;
