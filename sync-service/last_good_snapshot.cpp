#include "last_good_snapshot.hpp"

#include <jansson.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace rsync {
namespace {

constexpr const char* kMagic = "routeshift-last-good-snapshot v1";
constexpr const char* kAad = "routeshift:last-good-snapshot";
constexpr off_t kMaxFileBytes = off_t(512) << 20;  // snapshots are limited to 64m by the module

bool write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
}

std::string directory_of(const std::string& path) {
    size_t slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

bool save_last_good_snapshot(const std::string& path, const Snapshot& snapshot, const SecretBox& box,
                             std::string* error) {
    SealedSecret sealed;
    if (!box.seal(snapshot.json, kAad, &sealed, error)) return false;
    std::string content = std::string(kMagic) + "\n" + std::to_string(sealed.key_version) + "\n" +
                          hex_encode(sealed.nonce) + "\n" + hex_encode(sealed.ciphertext) + "\n";
    std::string tmp = path + ".tmp." + std::to_string(::getpid());
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        *error = "cannot create " + tmp + ": " + std::strerror(errno);
        return false;
    }
    bool ok = ::fchmod(fd, 0600) == 0 && write_all(fd, content) && ::fsync(fd) == 0;
    int saved = errno;
    ok = (::close(fd) == 0) && ok;
    if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
        *error = "cannot write " + path + ": " + std::strerror(ok ? errno : saved);
        ::unlink(tmp.c_str());
        return false;
    }
    // The rename itself must reach the disk too.
    int dir = ::open(directory_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {
        ::fsync(dir);
        ::close(dir);
    }
    return true;
}

LastGoodLoad load_last_good_snapshot(const std::string& path, const SecretBox& box, Snapshot* out,
                                     std::string* error) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT) return LastGoodLoad::absent;
        *error = "cannot open " + path + ": " + std::strerror(errno);
        return LastGoodLoad::unreadable;
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > kMaxFileBytes) {
        ::close(fd);
        *error = path + " is not a regular file of a plausible size";
        return LastGoodLoad::unreadable;
    }
    std::string content(static_cast<size_t>(st.st_size), '\0');
    size_t got = 0;
    while (got < content.size()) {
        ssize_t n = ::read(fd, content.data() + got, content.size() - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += static_cast<size_t>(n);
    }
    ::close(fd);
    content.resize(got);
    std::string_view rest(content);
    std::string_view fields[4];
    for (auto& f : fields) {
        size_t eol = rest.find('\n');
        if (eol == std::string_view::npos) {
            *error = path + " is truncated or not a last-good snapshot file";
            return LastGoodLoad::unreadable;
        }
        f = rest.substr(0, eol);
        rest.remove_prefix(eol + 1);
    }
    SealedSecret sealed;
    if (fields[0] != kMagic || fields[1].empty() || fields[1].size() > 9 ||
        fields[1].find_first_not_of("0123456789") != std::string_view::npos ||
        !hex_decode(fields[2], &sealed.nonce) || !hex_decode(fields[3], &sealed.ciphertext)) {
        *error = path + " is not a last-good snapshot file";
        return LastGoodLoad::unreadable;
    }
    sealed.key_version = std::stoi(std::string(fields[1]));
    std::string json;
    if (!box.open(sealed, kAad, &json, error)) {
        *error = path + " does not open with this master key (" + *error + ")";
        return LastGoodLoad::not_authentic;
    }
    json_error_t jerr;
    json_t* root = json_loadb(json.data(), json.size(), 0, &jerr);
    json_t* generation = root ? json_object_get(root, "generation") : nullptr;
    if (!json_is_integer(generation)) {
        json_decref(root);
        wipe(json);
        *error = path + " holds no snapshot generation";
        return LastGoodLoad::unreadable;
    }
    wipe(out->json);
    for (auto& s : out->secrets) wipe(s);
    out->generation = json_integer_value(generation);
    out->secrets = secrets_in_snapshot(root);
    out->provider_keys = out->secrets.size();
    scrub_snapshot_secrets(root);
    json_decref(root);
    out->json = std::move(json);
    return LastGoodLoad::loaded;
}

}  // namespace rsync
