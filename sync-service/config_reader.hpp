// Reads every config table in one REPEATABLE READ, READ ONLY transaction, so the generation and
// the rows always describe the same committed state.
#pragma once
#include "pg_connection.hpp"
#include "snapshot_builder.hpp"

namespace rsync {

// Throws PgError on database errors (the transaction is rolled back).
ConfigRows read_config(PgConnection& conn);

// Just config_state.generation (cheap; used to skip rebuilding an unchanged config).
int64_t read_generation(PgConnection& conn);

}  // namespace rsync
