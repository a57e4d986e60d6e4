// Schema migrations: the numbered files of sql/ are embedded at build time and applied in order,
// each in its own transaction together with its row in schema_migrations. Re-running is a no-op.
// A session-level advisory lock serialises concurrent `routeshift-sync migrate` runs.
#pragma once
#include "pg_connection.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace rsync {

struct EmbeddedMigration {
    const char* file;  // "001_config_tables.sql"
    const char* sql;
};
extern const EmbeddedMigration kEmbeddedMigrations[];
extern const size_t kEmbeddedMigrationCount;

struct Migration {
    std::string version;   // "001"
    std::string name;      // "config_tables"
    std::string file;
    std::string_view sql;
    std::string checksum;  // hex SHA-256 of the file
};

// The embedded migrations in order; throws std::runtime_error when a file name is malformed or
// versions repeat (a build problem).
std::vector<Migration> embedded_migrations();

struct MigrateResult {
    int applied = 0;
    int already = 0;
};

// Applies every pending migration. Throws PgError (the failing migration is rolled back and
// named in the message).
MigrateResult run_migrations(PgConnection& conn);

// "" when every embedded migration is recorded; otherwise a message naming what is missing.
std::string schema_problem(PgConnection& conn);

// Lines "version name applied_at|pending" for `routeshift-sync migrate --status`.
std::vector<std::string> migration_status(PgConnection& conn);

}  // namespace rsync
