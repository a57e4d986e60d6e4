// Hostile admin answers (issue 12): sizes that would wrap, oversized bodies, byte-by-byte delivery,
// a peer that streams forever, and a unix socket served by the wrong user.
#include "cmocka_cpp.hpp"
#include "admin_push.hpp"
#include "http_response_reader.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

using namespace rsync;
using State = HttpResponseReader::State;

static void test_chunk_size_overflow_is_refused(void**) {
    HttpResponseReader reader;
    // fffffffffffffffe + 2 used to wrap the bounds check and throw length_error.
    State s = reader.feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffe\r\nab\r\n0\r\n\r\n");
    assert_int_equal(static_cast<int>(s), static_cast<int>(State::failed));
    assert_true(reader.error().find("chunk size") != std::string::npos);
    HttpResponseReader longer;
    assert_int_equal(static_cast<int>(longer.feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                                  "10000000000000000000\r\n")),
                     static_cast<int>(State::failed));
}

static void test_content_length_overflow_is_refused(void**) {
    HttpResponseReader reader;
    // 2^64 + 1 used to wrap to 1.
    State s = reader.feed("HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551617\r\n\r\n{}");
    assert_int_equal(static_cast<int>(s), static_cast<int>(State::failed));
    assert_true(reader.error().find("Content-Length") != std::string::npos);
    HttpResponseReader too_big(1000);
    assert_int_equal(static_cast<int>(too_big.feed("HTTP/1.1 200 OK\r\nContent-Length: 1001\r\n\r\n")),
                     static_cast<int>(State::failed));
    HttpResponseReader conflicting;
    assert_int_equal(
        static_cast<int>(conflicting.feed("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}")),
        static_cast<int>(State::failed));
}

static void test_body_and_header_limits(void**) {
    HttpResponseReader unframed(1000);
    assert_int_equal(static_cast<int>(unframed.feed("HTTP/1.1 200 OK\r\n\r\n")), static_cast<int>(State::need_more));
    assert_int_equal(static_cast<int>(unframed.feed(std::string(1001, 'x'))), static_cast<int>(State::failed));
    HttpResponseReader chunked(1000);
    std::string answer = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 3; ++i) answer += "190\r\n" + std::string(400, 'y') + "\r\n";  // 3 x 400 > 1000
    assert_int_equal(static_cast<int>(chunked.feed(answer)), static_cast<int>(State::failed));
    HttpResponseReader header;
    std::string endless_header = "HTTP/1.1 200 OK\r\nX: " + std::string(kMaxResponseHeaderBytes, 'h');
    assert_int_equal(static_cast<int>(header.feed(endless_header)), static_cast<int>(State::failed));
    HttpResponseReader chunk_line;
    assert_int_equal(static_cast<int>(chunk_line.feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;" +
                                                      std::string(8192, 'e'))),
                     static_cast<int>(State::failed));
}

static void test_byte_by_byte_delivery(void**) {
    const std::string chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n"
                                "6\r\n world\r\n0\r\nTrailer: x\r\n\r\n";
    HttpResponseReader reader;
    for (size_t i = 0; i < chunked.size(); ++i) {
        State s = reader.feed(std::string_view(&chunked[i], 1));
        assert_int_equal(static_cast<int>(s), static_cast<int>(i + 1 == chunked.size() ? State::complete
                                                                                       : State::need_more));
    }
    assert_int_equal(reader.response().status, 200);
    assert_string_equal(reader.response().body.c_str(), "hello world");

    const std::string sized = "HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\n\r\nnopeEXTRA";
    HttpResponseReader second;
    State s = State::need_more;
    for (char c : sized) s = second.feed(std::string_view(&c, 1));
    assert_int_equal(static_cast<int>(s), static_cast<int>(State::complete));
    assert_int_equal(second.response().status, 404);
    assert_string_equal(second.response().body.c_str(), "nope");

    HttpResponseReader until_close;
    until_close.feed("HTTP/1.0 200 OK\r\n\r\nall");
    until_close.feed(" of it");
    assert_int_equal(static_cast<int>(until_close.finish()), static_cast<int>(State::complete));
    assert_string_equal(until_close.response().body.c_str(), "all of it");
    HttpResponseReader truncated;
    truncated.feed("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort");
    assert_int_equal(static_cast<int>(truncated.finish()), static_cast<int>(State::failed));
}

// A peer that answers a header and then streams bytes forever: the request stops at the timeout
// (the deadline covers the whole exchange), without exceptions and without parsing quadratically.
static void test_endless_stream_hits_the_timeout(void**) {
    int listener = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(::bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    assert_int_equal(::listen(listener, 4), 0);
    socklen_t len = sizeof a;
    ::getsockname(listener, reinterpret_cast<sockaddr*>(&a), &len);
    std::atomic<bool> stop{false};
    std::thread server([&] {
        int c = ::accept(listener, nullptr, nullptr);
        if (c < 0) return;
        std::string head = "HTTP/1.1 200 OK\r\n\r\n";
        ::send(c, head.data(), head.size(), MSG_NOSIGNAL);
        std::string block(65536, 'z');
        while (!stop && ::send(c, block.data(), block.size(), MSG_NOSIGNAL) > 0) {
        }
        ::close(c);
    });
    std::string err;
    auto t = parse_admin_target("http://127.0.0.1:" + std::to_string(ntohs(a.sin_port)) + "/admin", &err);
    auto start = std::chrono::steady_clock::now();
    HttpResponse r;
    bool ok = http_request(*t, "GET", "/status", {}, 400, &r, &err);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
    stop = true;
    server.join();
    ::close(listener);
    assert_false(ok);
    // Either the body limit or the deadline ends it; both well before a hang.
    assert_true(err.find("timed out") != std::string::npos || err.find("too large") != std::string::npos);
    assert_true(ms < 5000);
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chunk_size_overflow_is_refused),
        cmocka_unit_test(test_content_length_overflow_is_refused),
        cmocka_unit_test(test_body_and_header_limits),
        cmocka_unit_test(test_byte_by_byte_delivery),
        cmocka_unit_test(test_endless_stream_hits_the_timeout),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
