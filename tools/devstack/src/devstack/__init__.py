"""The local stack behind `./dev`: Kafka assembled from Maven Central's jars, a project-local
PostgreSQL cluster with one database per service, a mail sink, and the five services, each a
process of its own with a pid file and a log file under `.run/<stack>/`."""
