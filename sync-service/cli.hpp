// The admin commands of routeshift-sync (one file per area: cli_service.cpp, cli_provider_key.cpp,
// cli_virtual_key.cpp, cli_alias.cpp, cli_rule.cpp, cli_config.cpp, cli_balancing.cpp, cli_limit.cpp) and their shared helpers (cli_common.cpp).
// Each returns the process exit code; usage problems throw UsageError (exit 2), failures
// CommandError or PgError (exit 1).
#pragma once
#include "options.hpp"
#include "pg_connection.hpp"
#include "secret_box.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace rsync {

int cmd_migrate(Context& ctx);
int cmd_serve(Context& ctx);
int cmd_check(Context& ctx);
int cmd_push(Context& ctx);
int cmd_ship(Context& ctx);  // cli_ship.cpp
int cmd_provider_key(Context& ctx);
int cmd_virtual_key(Context& ctx);
int cmd_alias(Context& ctx);
int cmd_rule(Context& ctx);
int cmd_provider(Context& ctx);
int cmd_model(Context& ctx);
int cmd_team(Context& ctx);
int cmd_spend(Context& ctx);   // cli_spend.cpp
int cmd_budget(Context& ctx);  // cli_budget.cpp
int cmd_balancing(Context& ctx);  // cli_balancing.cpp
int cmd_limit(Context& ctx);      // cli_limit.cpp

// --- helpers (cli_common.cpp) ---
std::unique_ptr<PgConnection> open_db(const Context& ctx);
// Fails with a hint when migrations are pending.
void require_schema(PgConnection& db);
SecretBox load_secret_box(const Context& ctx);  // UsageError when no key is configured
// Accepts a name or a numeric id; CommandError when unknown.
int64_t resolve_provider(PgConnection& db, const std::string& name_or_id);
int64_t resolve_team(PgConnection& db, const std::string& name_or_id);
// The --provider filter of a list command: that provider's id as query text, or nullopt.
std::optional<std::string> provider_filter(PgConnection& db, const Context& ctx);
// The provider key addressed by --id N, or by --provider P --label L; CommandError when unknown.
int64_t find_provider_key(PgConnection& db, const Context& ctx);
// An integer option as text for a query parameter (nullopt when absent); UsageError out of lo..hi.
std::optional<std::string> opt_num(const Context& ctx, const char* name, long long lo, long long hi);
// Reads a secret: prompts on the terminal without echo, or reads all of a piped stdin. Trailing
// newline/whitespace is dropped; empty or control characters are refused.
std::string read_secret_from_stdin(const char* what);
// Prints a result as a tab-separated table with a header line.
void print_table(const PgResult& r, const std::vector<std::string>& headers);
// Prints rows (the first is the header) as space-aligned columns; columns from
// `first_right_aligned` on (numbers, money) are right-aligned.
void print_aligned_table(const std::vector<std::vector<std::string>>& rows, size_t first_right_aligned);
// The subcommand word (positional[1]) or UsageError listing `choices`.
std::string subcommand(const Context& ctx, const char* command, const char* choices);

}  // namespace rsync
