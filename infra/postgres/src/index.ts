/**
 * PostgreSQL for Shoal's tests and benchmarks: Debian's server binaries run as a plain process on a fresh
 * data dir and a free port, with no Docker and no system service.
 */
export { postgresBinDir, postgresMissingReason, startPostgres, type PostgresServer, type PostgresServerOptions } from './postgres-process.js';
