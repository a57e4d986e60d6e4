// The admin HTTP client: target parsing (loopback/unix only), response parsing, and real requests
// against a tiny in-process HTTP server (TCP and unix socket).
#include "cmocka_cpp.hpp"
#include "admin_push.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <thread>

using namespace rsync;

static void test_parse_targets(void**) {
    std::string err;
    auto a = parse_admin_target("http://127.0.0.1:8081/admin", &err);
    assert_true(a.has_value());
    assert_false(a->unix_socket);
    assert_string_equal(a->host.c_str(), "127.0.0.1");
    assert_int_equal(a->port, 8081);
    assert_string_equal(a->prefix.c_str(), "/admin");
    assert_string_equal(a->host_header.c_str(), "127.0.0.1:8081");

    auto b = parse_admin_target("http://127.0.0.1:8081", &err);  // no path: /admin
    assert_string_equal(b->prefix.c_str(), "/admin");
    auto c = parse_admin_target("http://localhost/ops/admin/", &err);
    assert_int_equal(c->port, 80);
    assert_string_equal(c->prefix.c_str(), "/ops/admin");
    assert_string_equal(c->host_header.c_str(), "localhost");
    auto d = parse_admin_target("http://[::1]:9/admin", &err);
    assert_string_equal(d->host.c_str(), "::1");
    assert_string_equal(d->host_header.c_str(), "[::1]:9");
    auto e = parse_admin_target("http://127.8.9.10:1/x", &err);
    assert_true(e.has_value());

    auto u = parse_admin_target("unix:/run/routeshift/admin.sock:/admin", &err);
    assert_true(u->unix_socket);
    assert_string_equal(u->socket_path.c_str(), "/run/routeshift/admin.sock");
    assert_string_equal(u->prefix.c_str(), "/admin");
    auto u2 = parse_admin_target("unix:/tmp/a.sock", &err);
    assert_string_equal(u2->socket_path.c_str(), "/tmp/a.sock");
    assert_string_equal(u2->prefix.c_str(), "/admin");
    auto u3 = parse_admin_target("unix:/tmp/a.sock:/x/y", &err);
    assert_string_equal(u3->prefix.c_str(), "/x/y");

    for (const char* bad : {"http://10.0.0.1:8081/admin", "http://example.com/admin", "https://127.0.0.1/admin",
                            "ftp://127.0.0.1/", "unix:relative.sock:/admin", "http://127.0.0.1:0/admin",
                            "http://127.0.0.1:70000/admin", "http://user@127.0.0.1/admin", "http://127.0.0.1/admin?x",
                            "127.0.0.1:8081", "http://:80/admin", "http://[::2]/admin"}) {
        err.clear();
        assert_false(parse_admin_target(bad, &err).has_value());
        assert_false(err.empty());
    }
}

static void test_parse_responses(void**) {
    HttpResponse r;
    std::string err;
    assert_true(parse_http_response("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", &r, &err));
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body.c_str(), "hello");
    assert_true(parse_http_response("HTTP/1.1 400 Bad Request\r\ncontent-length: 2\r\n\r\n{}extra", &r, &err));
    assert_int_equal(r.status, 400);
    assert_string_equal(r.body.c_str(), "{}");
    assert_true(parse_http_response(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5;ext=1\r\npedia\r\n0\r\n\r\n", &r, &err));
    assert_string_equal(r.body.c_str(), "Wikipedia");
    assert_true(parse_http_response("HTTP/1.0 204 No Content\r\n\r\n", &r, &err));
    assert_int_equal(r.status, 204);
    bool framed = true;
    assert_true(parse_http_response_framed("HTTP/1.1 200 OK\r\n\r\nuntil-close", &r, &err, &framed));
    assert_false(framed);
    assert_false(parse_http_response("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", &r, &err));
    assert_false(parse_http_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWi", &r, &err));
    assert_false(parse_http_response("HTTP/1.1 200 OK\r\nContent-Len", &r, &err));
    assert_false(parse_http_response("SSH-2.0-OpenSSH\r\n\r\n", &r, &err));
    assert_false(parse_http_response("HTTP/1.1 2x0 OK\r\n\r\n", &r, &err));
}

static void test_error_message(void**) {
    assert_string_equal(admin_error_message(R"({"error":{"message":"snapshot rejected: x","type":"t"}})").c_str(),
                        "snapshot rejected: x");
    assert_string_equal(admin_error_message(R"({"error":"plain"})").c_str(), "plain");
    assert_string_equal(admin_error_message("<html>oops</html>").c_str(), "<html>oops</html>");
}

// A one-connection-at-a-time HTTP server answering canned responses, recording requests.
struct MiniServer {
    int fd = -1;
    std::thread th;
    std::atomic<int> served{0};
    std::string last_request;
    std::string reply;
    int connections = 0;

    void serve(int n) {
        connections = n;
        th = std::thread([this] {
            for (int i = 0; i < connections; ++i) {
                int c = ::accept(fd, nullptr, nullptr);
                if (c < 0) return;
                std::string req;
                char buf[65536];
                for (;;) {  // read headers + Content-Length body
                    ssize_t n = ::recv(c, buf, sizeof buf, 0);
                    if (n <= 0) break;
                    req.append(buf, static_cast<size_t>(n));
                    size_t he = req.find("\r\n\r\n");
                    if (he == std::string::npos) continue;
                    size_t cl = 0;
                    size_t p = req.find("Content-Length: ");
                    if (p != std::string::npos && p < he) cl = std::stoul(req.substr(p + 16));
                    if (req.size() >= he + 4 + cl) break;
                }
                last_request = req;
                ssize_t w = ::send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
                (void)w;
                ::close(c);
                served++;
            }
        });
    }
    ~MiniServer() {
        if (th.joinable()) th.join();
        if (fd >= 0) ::close(fd);
    }
};

static unsigned listen_tcp(MiniServer& s) {
    s.fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(::bind(s.fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    assert_int_equal(::listen(s.fd, 8), 0);
    socklen_t len = sizeof a;
    ::getsockname(s.fd, reinterpret_cast<sockaddr*>(&a), &len);
    return ntohs(a.sin_port);
}

static void test_push_over_tcp(void**) {
    MiniServer s;
    unsigned port = listen_tcp(s);
    std::string err;
    auto t = parse_admin_target("http://127.0.0.1:" + std::to_string(port) + "/admin", &err);
    std::string okbody = "{\"generation\":17,\"keys\":2}";
    s.reply = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(okbody.size()) +
              "\r\n\r\n" + okbody;
    s.serve(1);
    std::string body = R"({"version":1,"generation":17})";
    PushResult r = admin_push_snapshot(*t, body, 2000);
    s.th.join();
    assert_int_equal(r.kind, PushResult::accepted);
    assert_int_equal(r.generation, 17);
    assert_int_equal(r.keys, 2);
    assert_true(s.last_request.rfind("PUT /admin/snapshot HTTP/1.1\r\n", 0) == 0);
    assert_true(contains(s.last_request, "Content-Length: " + std::to_string(body.size())));
    assert_true(contains(s.last_request, "Content-Type: application/json"));
    assert_true(contains(s.last_request, "\r\n\r\n" + body));
}

static void test_rejection_and_generation(void**) {
    MiniServer s;
    unsigned port = listen_tcp(s);
    std::string err;
    auto t = parse_admin_target("http://127.0.0.1:" + std::to_string(port), &err);
    std::string rbody = "{\"error\":{\"message\":\"snapshot rejected: providers[0] (id 1): bad\"}}";
    s.reply = "HTTP/1.1 400 Bad Request\r\nContent-Length: " + std::to_string(rbody.size()) + "\r\n\r\n" + rbody;
    s.serve(1);
    PushResult r = admin_push_snapshot(*t, "{}", 2000);
    s.th.join();
    assert_int_equal(r.kind, PushResult::rejected);
    assert_int_equal(r.status, 400);
    assert_string_equal(r.message.c_str(), "snapshot rejected: providers[0] (id 1): bad");

    MiniServer g;
    port = listen_tcp(g);
    t = parse_admin_target("http://127.0.0.1:" + std::to_string(port) + "/admin/", &err);
    std::string gbody = "{\"generation\":0,\"epoch\":4}\n";
    char hexlen[16];
    std::snprintf(hexlen, sizeof hexlen, "%zx", gbody.size());
    g.reply = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + std::string(hexlen) + "\r\n" + gbody +
              "\r\n0\r\n\r\n";
    g.serve(1);
    auto info = admin_get_generation(*t, 2000, &err);
    g.th.join();
    assert_true(info.has_value());
    assert_int_equal(info->generation, 0);
    assert_int_equal(*info->epoch, 4);
    assert_true(g.last_request.rfind("GET /admin/snapshot/generation HTTP/1.1\r\n", 0) == 0);

    MiniServer e;
    port = listen_tcp(e);
    t = parse_admin_target("http://127.0.0.1:" + std::to_string(port) + "/admin", &err);
    e.reply = "HTTP/1.1 503 Unavailable\r\nContent-Length: 0\r\n\r\n";
    e.serve(1);
    r = admin_push_snapshot(*t, "{}", 2000);
    e.th.join();
    assert_int_equal(r.kind, PushResult::failed);  // 5xx: transient, retried
}

static void test_unix_socket_and_errors(void**) {
    char dir[] = "/tmp/rs-admin-XXXXXX";
    assert_non_null(mkdtemp(dir));
    std::string path = std::string(dir) + "/admin.sock";
    MiniServer s;
    s.fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path.c_str());
    assert_int_equal(::bind(s.fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    assert_int_equal(::listen(s.fd, 8), 0);
    std::string ibody = "{\"invalidated\":true,\"generation\":3}";
    s.reply = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(ibody.size()) + "\r\n\r\n" + ibody;
    s.serve(1);
    std::string err;
    auto t = parse_admin_target("unix:" + path + ":/admin", &err);
    HttpResponse r;
    assert_true(admin_invalidate(*t, 2000, &r, &err));
    s.th.join();
    assert_int_equal(r.status, 200);
    assert_true(s.last_request.rfind("POST /admin/model-aliases/invalidate HTTP/1.1\r\n", 0) == 0);
    ::unlink(path.c_str());

    // nothing listening: a clean error, no hang
    assert_false(admin_invalidate(*t, 500, &r, &err));
    assert_false(err.empty());
    auto closed = parse_admin_target("http://127.0.0.1:1/admin", &err);
    assert_false(admin_get_generation(*closed, 500, &err).has_value());
    ::rmdir(dir);
}

static void test_timeout(void**) {
    // A server that accepts but never answers: the request gives up after the timeout.
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd, 8);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    std::string err;
    auto t = parse_admin_target("http://127.0.0.1:" + std::to_string(ntohs(a.sin_port)) + "/admin", &err);
    auto start = std::chrono::steady_clock::now();
    assert_false(admin_get_generation(*t, 300, &err).has_value());
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
    assert_true(ms >= 250 && ms < 3000);
    assert_true(contains(err, "timed out"));
    ::close(fd);
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_targets),
        cmocka_unit_test(test_parse_responses),
        cmocka_unit_test(test_error_message),
        cmocka_unit_test(test_push_over_tcp),
        cmocka_unit_test(test_rejection_and_generation),
        cmocka_unit_test(test_unix_socket_and_errors),
        cmocka_unit_test(test_timeout),
    };
    return cmocka_run_group_tests_name("sync_admin_push", tests, nullptr, nullptr);
}
