#include "options.hpp"

#include "log.hpp"
#include "util/admin_auth.hpp"  // module core

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

namespace rsync {
namespace {

// Options that take a value; anything else starting with "--" is a flag.
const std::set<std::string> kValued = {
    "--db", "--nginx", "--secret-file", "--poll-ms", "--timeout-ms", "--backoff-max-ms", "--log-level",
    "--provider", "--label", "--weight", "--rpm", "--tpm", "--cooldown", "--metadata", "--id", "--team",
    "--name", "--expires-at", "--expires-in", "--alias", "--target", "--kind", "--base-url", "--model",
    "--upstream-model", "--last-good-file", "--admin-token-file",
    // rule add, rule set
    "--priority", "--match", "--action", "--conditions", "--retry-budget", "--cost-ceiling-microcents",
    "--stream-continuation",
    "--log-spool",
    // spend, budget
    "--by", "--since", "--key", "--daily", "--monthly", "--period",
    // balancing, limit
    "--strategy", "--latency-window", "--breaker-threshold", "--rate-window", "--limit",
};
const std::set<std::string> kFlags = {"--disabled", "--status", "--print", "--key-stdin", "--help", "--all",
                                     "--once", "--per-day", "--allow-tcp-without-token", "--defaults"};
const std::set<std::string> kGlobal = {"--db", "--nginx", "--secret-file", "--poll-ms", "--timeout-ms",
                                       "--backoff-max-ms", "--log-level", "--help", "--log-spool",
                                       "--admin-token-file", "--allow-tcp-without-token"};

int env_int(const char* name, int def, int lo, int hi) {
    const char* v = std::getenv(name);
    if (!v || !*v) return def;
    char* end = nullptr;
    long n = std::strtol(v, &end, 10);
    if (*end != '\0' || n < lo || n > hi)
        throw UsageError(std::string(name) + " must be an integer in " + std::to_string(lo) + ".." +
                         std::to_string(hi));
    return static_cast<int>(n);
}

void split_targets(const std::string& s, std::vector<std::string>* out) {
    std::string cur;
    for (char c : s) {
        if (c == ',' || c == ' ' || c == '\t' || c == '\n') {
            if (!cur.empty()) out->push_back(cur);
            cur.clear();
        } else {
            cur.push_back(c);
        }
    }
    if (!cur.empty()) out->push_back(cur);
}

}  // namespace

std::optional<std::string> Args::get(const std::string& name) const {
    auto it = options.find(name);
    if (it == options.end() || it->second.empty()) return std::nullopt;
    return it->second.back();
}

std::string Args::require(const std::string& name) const {
    auto v = get(name);
    if (!v || v->empty()) throw UsageError("missing " + name);
    return *v;
}

std::optional<long long> Args::get_int(const std::string& name, long long lo, long long hi) const {
    auto v = get(name);
    if (!v) return std::nullopt;
    char* end = nullptr;
    errno = 0;
    long long n = std::strtoll(v->c_str(), &end, 10);
    if (v->empty() || *end != '\0' || errno != 0 || n < lo || n > hi)
        throw UsageError(name + " must be an integer in " + std::to_string(lo) + ".." + std::to_string(hi));
    return n;
}

void Args::allow_only(std::initializer_list<const char*> allowed) const {
    std::set<std::string> ok(kGlobal);
    for (const char* a : allowed) ok.insert(a);
    for (const auto& [name, vals] : options) {
        if (!ok.count(name)) throw UsageError("option " + name + " does not apply to this command");
    }
}

Args parse_args(int argc, char** argv) {
    Args a;
    for (int i = 0; i < argc; ++i) {
        std::string s = argv[i];
        if (s == "-h") s = "--help";
        if (s == "-v") s = "--version";
        if (s.size() > 2 && s.compare(0, 2, "--") == 0) {
            std::string name = s, value;
            bool inline_value = false;
            if (size_t eq = s.find('='); eq != std::string::npos) {
                name = s.substr(0, eq);
                value = s.substr(eq + 1);
                inline_value = true;
            }
            if (kValued.count(name)) {
                if (!inline_value) {
                    if (i + 1 >= argc) throw UsageError(name + " needs a value");
                    value = argv[++i];
                }
                a.options[name].push_back(value);
            } else if (kFlags.count(name)) {
                if (inline_value) throw UsageError(name + " takes no value");
                a.options[name].push_back("");
            } else if (name == "--version") {
                a.positional.insert(a.positional.begin(), "version");
            } else {
                throw UsageError("unknown option " + name);
            }
        } else {
            a.positional.push_back(s);
        }
    }
    return a;
}

Context make_context(Args args) {
    Context c;
    c.args = std::move(args);
    if (const char* lvl = std::getenv("ROUTESHIFT_LOG_LEVEL"); lvl && *lvl) {
        if (!log::set_level(lvl)) throw UsageError("ROUTESHIFT_LOG_LEVEL: unknown level");
    }
    if (auto lvl = c.args.get("--log-level")) {
        if (!log::set_level(lvl->c_str())) throw UsageError("--log-level: use debug, info, warn or error");
    }
    if (auto db = c.args.get("--db")) c.conninfo = *db;
    else if (const char* e = std::getenv("ROUTESHIFT_DATABASE_URL"); e && *e) c.conninfo = e;
    else if (const char* e2 = std::getenv("DATABASE_URL"); e2 && *e2) c.conninfo = e2;

    if (c.args.has("--nginx")) {
        for (const auto& v : c.args.options.at("--nginx")) split_targets(v, &c.nginx_specs);
    } else if (const char* e = std::getenv("ROUTESHIFT_NGINX_ADMIN"); e && *e) {
        split_targets(e, &c.nginx_specs);
    }
    if (auto f = c.args.get("--secret-file")) c.secret_file = *f;
    if (auto spool = c.args.get("--log-spool")) c.log_spool_dir = *spool;
    else if (const char* e = std::getenv("ROUTESHIFT_LOG_SPOOL"); e && *e) c.log_spool_dir = e;
    if (auto f = c.args.get("--admin-token-file")) c.admin_token_file = *f;
    else if (const char* e = std::getenv("ROUTESHIFT_ADMIN_TOKEN_FILE"); e && *e) c.admin_token_file = e;
    if (c.args.has("--allow-tcp-without-token")) {
        c.allow_tcp_without_token = true;
    } else if (const char* e = std::getenv("ROUTESHIFT_ALLOW_TCP_WITHOUT_TOKEN"); e && *e) {
        std::string v = e;
        if (v != "1" && v != "0") throw UsageError("ROUTESHIFT_ALLOW_TCP_WITHOUT_TOKEN must be 1 or 0");
        c.allow_tcp_without_token = v == "1";
    }
    // systemd's StateDirectory= sets STATE_DIRECTORY: the last good snapshot lives there by default.
    if (auto f = c.args.get("--last-good-file")) c.last_good_file = *f;
    else if (const char* e = std::getenv("ROUTESHIFT_LAST_GOOD_FILE"); e && *e) c.last_good_file = e;
    else if (const char* d = std::getenv("STATE_DIRECTORY"); d && *d) c.last_good_file = std::string(d) + "/last-good-snapshot";
    c.poll_ms = env_int("ROUTESHIFT_POLL_MS", 1000, 50, 60000);
    c.timeout_ms = env_int("ROUTESHIFT_HTTP_TIMEOUT_MS", 5000, 100, 600000);
    c.backoff_max_ms = env_int("ROUTESHIFT_BACKOFF_MAX_MS", 1000, 100, 3600000);
    if (auto v = c.args.get_int("--poll-ms", 50, 60000)) c.poll_ms = static_cast<int>(*v);
    if (auto v = c.args.get_int("--timeout-ms", 100, 600000)) c.timeout_ms = static_cast<int>(*v);
    if (auto v = c.args.get_int("--backoff-max-ms", 100, 3600000)) c.backoff_max_ms = static_cast<int>(*v);
    return c;
}

std::vector<AdminTarget> Context::targets(bool required) const {
    std::string token;
    if (!admin_token_file.empty()) {
        std::ifstream in(admin_token_file, std::ios::binary);
        if (!in) throw UsageError("cannot read the admin token file " + admin_token_file);
        std::stringstream text;
        text << in.rdbuf();
        std::string err;
        if (!routeshift::admin_token_from_file_text(text.str(), &token, &err))
            throw UsageError(admin_token_file + ": " + err);
    }
    std::vector<AdminTarget> out;
    for (const auto& spec : nginx_specs) {
        std::string err;
        auto t = parse_admin_target(spec, &err);
        if (!t) throw UsageError(err);
        t->token = token;
        // The sync authenticates the nginx it pushes to (issue 12): a unix socket by its owner
        // (SO_PEERCRED), a TCP port only by the shared token's proof. Without either, a process that
        // binds the port while nginx is down would receive every provider secret.
        if (!t->unix_socket && token.empty()) {
            if (!allow_tcp_without_token)
                throw UsageError("the TCP admin target " + spec +
                                 " has no admin token, so the sync cannot tell nginx from any process that bound "
                                 "that port and would hand it every provider secret: use a unix socket "
                                 "(unix:/path.sock:/admin), or set --admin-token-file (nginx: "
                                 "routeshift_admin_token_file), or accept the risk with --allow-tcp-without-token");
            LOG_WARN("no admin token for the TCP target %s (--allow-tcp-without-token): whoever binds that port "
                     "while nginx is down receives the provider secrets",
                     spec.c_str());
        }
        out.push_back(std::move(*t));
    }
    if (required && out.empty())
        throw UsageError("no nginx admin endpoint configured: pass --nginx http://127.0.0.1:PORT/admin "
                         "(or unix:/path.sock:/admin), or set ROUTESHIFT_NGINX_ADMIN");
    return out;
}

}  // namespace rsync
