// routeshift-sync: Postgres -> nginx config sync daemon and admin CLI. See sync-service/README.md.
#include "cli.hpp"
#include "log.hpp"
#include "options.hpp"
#include "pg_connection.hpp"

#include <cstdio>
#include <cstring>
#include <exception>

namespace {

constexpr const char* kUsage = R"(usage: routeshift-sync [global options] COMMAND [options]

Service:
  migrate [--status]           apply pending sql/ migrations (embedded in the binary)
  serve                        push the config to nginx now and on every change (foreground)
  check [--print]              build + validate the snapshot once; --print shows it without secrets
  push                         build, validate and push the snapshot once
  ship [--once]                ship the nginx request-log spool (--log-spool) to request_logs

Provider credentials (the secret is read from standard input, never from the command line):
  provider-key add --provider P --label L [--weight W] [--rpm N] [--tpm N] [--cooldown S]
                   [--metadata JSON] [--disabled]
  provider-key rotate  (--id N | --provider P --label L)
  provider-key disable (--id N | --provider P --label L)
  provider-key enable  (--id N | --provider P --label L)
  provider-key list [--provider P]          (never shows secrets)

Client keys:
  virtual-key create [--team T] [--name N] [--expires-at TS | --expires-in INTERVAL]
                                            prints the sk-proxy-... key once; stores only its hash
  virtual-key revoke (--id N | --key-stdin)
  virtual-key list [--team T]

Aliases:
  alias set --alias A --target T [--team T]   (no --team: global)
  alias rm --alias A [--team T]
  alias list [--team T]
  alias invalidate                          POST /admin/model-aliases/invalidate on every nginx

Routing rules (docs/routing-rules.md; validated with the module's parser before insert):
  rule add --action JSON [--match JSON] [--conditions JSON] [--name N] [--priority P] [--team T]
           [--retry-budget N] [--cost-ceiling-microcents N] [--stream-continuation on|off] [--disabled]
  rule set --id N --stream-continuation on|off
  rule list [--team T]
  rule rm|enable|disable --id N

Plain-SQL conveniences:
  provider add --name N --kind K [--base-url URL] [--disabled] | provider list
  model add --provider P --model M [--upstream-model U] | model rm --provider P --model M | model list
  team add --name N | team list

Spend and budgets (US dollars; days and months are UTC):
  spend [--by team|key|model|provider|session] [--since 7d|24h|30m|2w] [--per-day]
                                            requests, tokens and cost from request_logs (default: team, 7d)
  budget set (--key ID | --team T) [--daily USD] [--monthly USD]
  budget clear (--key ID | --team T) [--period daily|monthly|both]
  budget list                               budgets with today's and this month's spend

Balancing (docs/design.md §9; a change reaches nginx with the next snapshot):
  balancing list [--provider P]             strategies, key weights and priorities, model priorities
  balancing set --provider P --strategy weighted_round_robin|latency|least_busy
  balancing set (--id N | --provider P --label L) [--weight 0..1000] [--priority 0..1000]
  balancing set --provider P --model M --priority 0..1000   failover tier of a provider for a model
  balancing set --defaults --latency-window SECONDS         p50 window of the latency strategy
  balancing clear (--provider P | --id N | --provider P --label L | --provider P --model M | --defaults)

Limits and the circuit breaker (docs/design.md §9):
  limit list
  limit set (--id N | --provider P --label L) [--rpm N] [--tpm N] [--breaker-threshold 0..1000]
            [--cooldown SECONDS]             a provider key (breaker 0 = no breaker for the key)
  limit set (--key ID | --team T) [--rpm N] [--tpm N]      a virtual key or a team
  limit set --defaults [--breaker-threshold N] [--cooldown SECONDS] [--rate-window SECONDS]
  limit clear (--id N | --provider P --label L | --key ID | --team T | --defaults)
              [--limit rpm|tpm|breaker|cooldown|rate-window|all]
                                            keys and callers: unlimited / the default; --defaults: back to 5, 30 s, 60 s

Global options (environment fallback):
  --db CONNINFO        ROUTESHIFT_DATABASE_URL, DATABASE_URL, or libpq PG* variables
  --nginx TARGET       ROUTESHIFT_NGINX_ADMIN; http://127.0.0.1:PORT/admin or unix:/path.sock:/admin;
                       repeatable / comma-separated
  --secret-file PATH   PROVIDER_KEY_SECRET, PROVIDER_KEY_SECRET_FILE, $CREDENTIALS_DIRECTORY/provider_key_secret
  --poll-ms N          ROUTESHIFT_POLL_MS (1000)          nginx generation polling interval
  --timeout-ms N       ROUTESHIFT_HTTP_TIMEOUT_MS (5000)  per admin request
  --backoff-max-ms N   ROUTESHIFT_BACKOFF_MAX_MS (1000)   Postgres reconnect backoff cap
  --last-good-file P   ROUTESHIFT_LAST_GOOD_FILE ($STATE_DIRECTORY/last-good-snapshot)  serve: the last
                       good snapshot, sealed with the master key, served at start when Postgres is down
  --admin-token-file P ROUTESHIFT_ADMIN_TOKEN_FILE        the shared admin token (routeshift_admin_token_file):
                       requests are signed, nginx must prove it holds the token before secrets are sent;
                       a TCP target needs it (unix-socket targets are checked by their owner instead)
  --allow-tcp-without-token  ROUTESHIFT_ALLOW_TCP_WITHOUT_TOKEN=1  accept a TCP target without a token
                       (any local process that binds the port while nginx is down gets the secrets)
  --log-level L        ROUTESHIFT_LOG_LEVEL (info)        debug, info, warn, error
  --log-spool DIR      ROUTESHIFT_LOG_SPOOL               nginx's routeshift_log_spool directory: serve
                                                          and ship move its records into request_logs

Exit status: 0 ok, 1 failure, 2 usage or configuration error (serve: also a wrong master secret).
)";

}  // namespace

int main(int argc, char** argv) {
    using namespace rsync;
    try {
        Args args = parse_args(argc - 1, argv + 1);
        if (args.positional.empty() || args.positional[0] == "help" || (args.has("--help") && args.positional.empty())) {
            std::fputs(kUsage, args.positional.empty() && !args.has("--help") ? stderr : stdout);
            return args.positional.empty() && !args.has("--help") ? 2 : 0;
        }
        if (args.has("--help")) {
            std::fputs(kUsage, stdout);
            return 0;
        }
        const std::string cmd = args.positional[0];
        if (cmd == "version") {
            std::printf("routeshift-sync %s\n", ROUTESHIFT_SYNC_VERSION);
            return 0;
        }
        Context ctx = make_context(std::move(args));
        auto no_extra = [&](size_t n) {
            if (ctx.args.positional.size() > n)
                throw UsageError(cmd + ": unexpected argument '" + ctx.args.positional[n] + "'");
        };
        if (cmd == "migrate") return no_extra(1), cmd_migrate(ctx);
        if (cmd == "serve") return no_extra(1), cmd_serve(ctx);
        if (cmd == "check") return no_extra(1), cmd_check(ctx);
        if (cmd == "push") return no_extra(1), cmd_push(ctx);
        if (cmd == "ship") return no_extra(1), cmd_ship(ctx);
        if (cmd == "provider-key") return cmd_provider_key(ctx);
        if (cmd == "virtual-key") return cmd_virtual_key(ctx);
        if (cmd == "alias") return cmd_alias(ctx);
        if (cmd == "rule") return cmd_rule(ctx);
        if (cmd == "provider") return cmd_provider(ctx);
        if (cmd == "model") return cmd_model(ctx);
        if (cmd == "team") return cmd_team(ctx);
        if (cmd == "spend") return cmd_spend(ctx);
        if (cmd == "budget") return cmd_budget(ctx);
        if (cmd == "balancing") return cmd_balancing(ctx);
        if (cmd == "limit") return cmd_limit(ctx);
        throw UsageError("unknown command '" + cmd + "' (routeshift-sync --help lists them)");
    } catch (const UsageError& e) {
        LOG_ERROR("%s", e.what());
        return 2;
    } catch (const CommandError& e) {
        LOG_ERROR("%s", e.what());
        return 1;
    } catch (const PgError& e) {
        LOG_ERROR("database: %s", e.what());
        return 1;
    } catch (const std::exception& e) {
        LOG_ERROR("%s", e.what());
        return 1;
    }
}
