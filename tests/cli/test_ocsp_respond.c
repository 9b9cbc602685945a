/* End to end: `ctca revoke`, and `ctca ocsp respond|serve` answering OCSP
 * requests from the store, checked by OpenSSL's own OCSP client and by `ctca
 * verify --ocsp-response`: good, revoked with its reason, unknown serials,
 * malformed requests, other issuers, SCTs of an unembedded issuance, nonces,
 * SHA-256 CertIDs, GET and POST, and a delegated responder. */
#include <criterion/criterion.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctca/asn1.h"
#include "ctca/util.h"
#include "tests/helpers.h"

static th_ca fx;
static pid_t server_pid;
static char server_url[128];

static void teardown(void)
{
    if (server_pid > 0) {
        kill(server_pid, SIGTERM);
        waitpid(server_pid, NULL, 0);
        server_pid = 0;
    }
    th_ca_cleanup(&fx);
}

/* Two logs of two operators; fail_first makes each refuse its first
 * submission with a 503, so issuance falls back and the queue logs it. */
static void setup_with(const char *log_flags)
{
    th_ca_init(&fx, "");
    th_ca_csr(&fx, "DNS:www.example.com");
    const char *specs[] = {"A:a1", "B:b1"}, *extra[] = {log_flags, log_flags};
    th_ca_start_logs(&fx, 2, specs, extra);
    char value[400];
    snprintf(value, sizeof value, "\"%s\"", fx.log_list);
    th_ca_config_set(&fx, "", "log_list", value);
}

static void setup(void)
{
    setup_with("");
}

static void setup_failing_logs(void)
{
    setup_with("--fail-first 1");
}

/* Each test names its setup: Criterion runs a suite's .init as well as a test's. */
TestSuite(ocsp_respond, .fini = teardown, .timeout = 120);

/* Issues dir/site.pem (with extra issue options); returns its serial. */
static void issue(const char *extra, char serial[64])
{
    char *out = NULL;
    cr_assert_eq(th_run(&out, "'%s' issue --ca '%s' --csr '%s' --out '%s/site.pem' %s", fx.ctca,
                        fx.ca_dir, fx.csr, fx.dir, extra),
                 0, "%s", out);
    const char *p = strstr(out, "issued serial ");
    cr_assert_not_null(p, "%s", out);
    cr_assert_eq(sscanf(p + 14, "%63[0-9a-f]", serial), 1, "%s", out);
    free(out);
}

/* dir/NAME.der: openssl ocsp's request for site.pem (OPTS: -no_nonce, -sha256...). */
static void request_for_site(const char *name, const char *opts)
{
    char *out = NULL;
    cr_assert_eq(th_run(&out,
                        "openssl ocsp -issuer '%s/ca.pem' -cert '%s/site.pem' %s -reqout "
                        "'%s/%s.der'",
                        fx.ca_dir, fx.dir, opts, fx.dir, name),
                 0, "%s", out);
    free(out);
}

/* `ctca ocsp respond` for dir/REQ.der into dir/resp.der; its exit status. */
static int respond(const char *req, char **out)
{
    return th_run(out, "'%s' ocsp respond --ca '%s' --request '%s/%s.der' --out '%s/resp.der'",
                  fx.ctca, fx.ca_dir, fx.dir, req, fx.dir);
}

/* OpenSSL's reading of dir/resp.der as the answer to dir/REQ.der: it
 * verifies the signature (by the issuer, or a responder certificate ca.pem
 * issued) and the nonce, and prints the response. (With -cert it would make
 * a request of its own, with another nonce, instead of reading REQ.der.) */
static int openssl_check(const char *req, char **out)
{
    return th_run(out,
                  "openssl ocsp -reqin '%s/%s.der' -respin '%s/resp.der' -issuer '%s/ca.pem'"
                  " -CAfile '%s/ca.pem' -resp_text",
                  fx.dir, req, fx.dir, fx.ca_dir, fx.ca_dir);
}

Test(ocsp_respond, a_revoked_certificate_is_answered_revoked_with_its_time_and_reason,
     .init = setup)
{
    char serial[64], *out = NULL;
    issue("", serial);
    request_for_site("req", "");
    cr_assert_eq(respond("req", &out), 0, "%s", out);
    cr_assert_not_null(strstr(out, ": good"), "%s", out);
    free(out);
    cr_assert_eq(openssl_check("req", &out), 0, "%s", out);
    cr_assert_not_null(strstr(out, "Response verify OK"), "%s", out);
    cr_assert_not_null(strstr(out, "Cert Status: good"), "%s", out);
    cr_assert_null(strstr(out, "WARNING"), "the nonce is echoed: %s", out);
    cr_assert_null(strstr(out, "Nonce Verify error"), "the nonce is echoed: %s", out);
    free(out);

    cr_assert_eq(th_run(&out, "'%s' revoke --ca '%s' %s --reason keyCompromise --at "
                              "2026-01-02T03:04:05Z",
                        fx.ctca, fx.ca_dir, serial),
                 0, "%s", out);
    cr_assert_not_null(strstr(out, "revoked serial"), "%s", out);
    free(out);
    cr_assert_eq(respond("req", &out), 0, "%s", out);
    cr_assert_not_null(strstr(out, ": revoked (keyCompromise)"), "%s", out);
    free(out);
    cr_assert_eq(openssl_check("req", &out), 0, "%s", out);
    cr_assert_not_null(strstr(out, "Response verify OK"), "%s", out);
    cr_assert_not_null(strstr(out, "Cert Status: revoked"), "%s", out);
    cr_assert_not_null(strstr(out, "Revocation Reason: keyCompromise (0x1)"), "%s", out);
    cr_assert_not_null(strstr(out, "Revocation Time: Jan  2 03:04:05 2026 GMT"), "%s", out);
    free(out);
}

Test(ocsp_respond, revoke_refuses_unknown_serials_reasons_future_times_and_a_second_revocation,
     .init = setup)
{
    char serial[64], *out = NULL;
    issue("", serial);
    cr_assert_eq(th_run(&out, "'%s' revoke --ca '%s' 0x7777", fx.ctca, fx.ca_dir), 2, "%s",
                 out);
    cr_assert_not_null(strstr(out, "no certificate with serial 7777"), "%s", out);
    free(out);
    const char *bad[] = {"--reason certificateHold", "--reason removeFromCRL",
                         "--reason keycompromise", "--at 2999-01-01T00:00:00Z", "--at yesterday"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_eq(th_run(&out, "'%s' revoke --ca '%s' %s %s", fx.ctca, fx.ca_dir, serial,
                            bad[i]),
                     2, "%s: %s", bad[i], out);
        free(out);
    }
    /* Upper case and colons, as `ctca get` accepts them. */
    char upper[64];
    for (size_t i = 0; i <= strlen(serial); i++)
        upper[i] = (char)(serial[i] >= 'a' && serial[i] <= 'f' ? serial[i] - 32 : serial[i]);
    cr_assert_eq(th_run(&out, "'%s' revoke --ca '%s' 0x%s --reason superseded", fx.ctca,
                        fx.ca_dir, upper),
                 0, "%s", out);
    free(out);
    cr_assert_eq(th_run(&out, "'%s' revoke --ca '%s' %s --reason keyCompromise", fx.ctca,
                        fx.ca_dir, serial),
                 1, "%s", out);
    cr_assert_not_null(strstr(out, "already revoked"), "%s", out);
    free(out);
    /* The first revocation stands. */
    request_for_site("req", "-no_nonce");
    cr_assert_eq(respond("req", &out), 0, "%s", out);
    cr_assert_not_null(strstr(out, ": revoked (superseded)"), "%s", out);
    free(out);
}

Test(ocsp_respond, a_precertificate_whose_issuance_was_deferred_can_be_revoked,
     .init = setup_failing_logs)
{
    char *out = NULL, serial[64];
    cr_assert_eq(th_run(&out, "'%s' issue --ca '%s' --csr '%s' --out '%s/site.pem'", fx.ctca,
                        fx.ca_dir, fx.csr, fx.dir),
                 75, "%s", out);
    const char *p = strstr(out, "deferred: serial ");
    cr_assert_not_null(p, "%s", out);
    cr_assert_eq(sscanf(p + 17, "%63[0-9a-f]", serial), 1);
    free(out);
    cr_assert_eq(th_run(&out, "'%s' revoke --ca '%s' %s --reason cessationOfOperation", fx.ctca,
                        fx.ca_dir, serial),
                 0, "%s", out);
    free(out);
    /* No certificate file exists: the request names the serial. */
    cr_assert_eq(th_run(&out,
                        "openssl ocsp -issuer '%s/ca.pem' -serial 0x%s -no_nonce -reqout "
                        "'%s/req.der'",
                        fx.ca_dir, serial, fx.dir),
                 0, "%s", out);
    free(out);
    cr_assert_eq(respond("req", &out), 0, "%s", out);
    cr_assert_not_null(strstr(out, ": revoked (cessationOfOperation)"), "%s", out);
    free(out);
    /* The logs answer now, yet the queue issues no certificate for a revoked serial. */
    cr_assert_eq(th_run(&out, "'%s' queue run --ca '%s' --once", fx.ctca, fx.ca_dir), 1, "%s",
                 out);
    cr_assert_not_null(strstr(out, "revoked, not issued"), "%s", out);
    free(out);
    cr_assert_eq(th_run(&out, "'%s' get --ca '%s' %s --out '%s/site.pem'", fx.ctca, fx.ca_dir,
                        serial, fx.dir),
                 1, "%s", out);
    cr_assert_not_null(strstr(out, "was revoked"), "%s", out);
    free(out);
}

Test(ocsp_respond, an_unknown_serial_is_answered_unknown, .init = setup)
{
    char serial[64], *out = NULL;
    issue("", serial);
    cr_assert_eq(th_run(&out,
                        "openssl ocsp -issuer '%s/ca.pem' -serial 0x0123456789 -no_nonce -reqout "
                        "'%s/req.der' && cd '%s' && '%s' ocsp respond --ca '%s' --request req.der"
                        " --out resp.der && openssl ocsp -respin resp.der -resp_text -noverify",
                        fx.ca_dir, fx.dir, fx.dir, fx.ctca, fx.ca_dir),
                 0, "%s", out);
    cr_assert_not_null(strstr(out, "serial 0123456789: unknown"), "%s", out);
    cr_assert_not_null(strstr(out, "Cert Status: unknown"), "%s", out);
    free(out);
}

/* Writes dir/NAME.der with len bytes of data. */
static void write_req(const char *name, const void *data, size_t len)
{
    char path[400];
    snprintf(path, sizeof path, "%s/%s.der", fx.dir, name);
    th_write_file(path, data, len);
}

/* The response status OpenSSL reads in dir/resp.der. */
static void expect_response_status(const char *status)
{
    char *out = NULL;
    th_run(&out, "openssl ocsp -respin '%s/resp.der' -resp_text -noverify", fx.dir);
    cr_assert_not_null(strstr(out, status), "want %s: %s", status, out);
    free(out);
}

Test(ocsp_respond, malformed_requests_are_answered_malformedRequest, .init = setup)
{
    char serial[64], *out = NULL;
    issue("", serial);
    request_for_site("good", "-no_nonce");
    size_t len = 0;
    char path[400];
    snprintf(path, sizeof path, "%s/good.der", fx.dir);
    uint8_t *good = th_read_file(path, &len);
    uint8_t buf[4096];
    cr_assert(len + 1 < sizeof buf);

    write_req("garbage", "not DER at all", 14);
    write_req("truncated", good, len - 1);
    memcpy(buf, good, len);
    buf[len] = 0x00;
    write_req("trailing", buf, len + 1);
    /* A SEQUENCE with an empty requestList. */
    static const uint8_t empty_list[] = {0x30, 0x04, 0x30, 0x02, 0x30, 0x00};
    write_req("empty_list", empty_list, sizeof empty_list);
    /* The explicit default version DER forbids: [0] { INTEGER 0 } first in the TBSRequest. */
    static const uint8_t version[] = {0xa0, 0x03, 0x02, 0x01, 0x00};
    cr_assert(good[0] == 0x30 && good[1] < 0x80 && good[2] == 0x30 && good[3] < 0x80);
    buf[0] = 0x30;
    buf[1] = (uint8_t)(good[1] + sizeof version);
    buf[2] = 0x30;
    buf[3] = (uint8_t)(good[3] + sizeof version);
    memcpy(buf + 4, version, sizeof version);
    memcpy(buf + 4 + sizeof version, good + 4, len - 4);
    write_req("version", buf, len + sizeof version);
    free(good);

    const char *names[] = {"garbage", "truncated", "trailing", "empty_list", "version"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        cr_assert_eq(respond(names[i], &out), 2, "%s: %s", names[i], out);
        cr_assert_not_null(strstr(out, "malformedRequest"), "%s: %s", names[i], out);
        free(out);
        expect_response_status("Responder Error: malformedrequest (1)");
    }
}

/* A request carrying a nonce of n octets, made with OpenSSL's OCSP API for
 * site.pem; SHA-256 CertID when sha256. */
static void request_with_nonce(const char *name, int n, bool sha256)
{
    char path[400];
    snprintf(path, sizeof path, "%s/site.pem", fx.dir);
    FILE *f = fopen(path, "r");
    X509 *cert = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    snprintf(path, sizeof path, "%s/ca.pem", fx.ca_dir);
    f = fopen(path, "r");
    X509 *ca = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    cr_assert(cert != NULL && ca != NULL);
    OCSP_REQUEST *req = OCSP_REQUEST_new();
    OCSP_CERTID *id = OCSP_cert_to_id(sha256 ? EVP_sha256() : NULL, cert, ca);
    cr_assert(req != NULL && id != NULL && OCSP_request_add0_id(req, id) != NULL);
    unsigned char nonce[64];
    memset(nonce, 0x5a, sizeof nonce);
    if (n > 0)
        cr_assert_eq(OCSP_request_add1_nonce(req, nonce, n), 1);
    unsigned char *der = NULL;
    int len = i2d_OCSP_REQUEST(req, &der);
    cr_assert(len > 0);
    write_req(name, der, (size_t)len);
    OPENSSL_free(der);
    OCSP_REQUEST_free(req);
    X509_free(cert);
    X509_free(ca);
}

Test(ocsp_respond, nonces_of_1_to_32_octets_are_echoed_longer_are_malformed_sha256_certids_work,
     .init = setup)
{
    char serial[64], *out = NULL;
    issue("", serial);
    const int ok[] = {1, 16, 32};
    for (size_t i = 0; i < 3; i++) {
        request_with_nonce("req", ok[i], i == 2);
        cr_assert_eq(respond("req", &out), 0, "nonce %d: %s", ok[i], out);
        cr_assert_not_null(strstr(out, ": good"), "%s", out);
        free(out);
        /* openssl ocsp compares the nonces and prints a WARNING on any mismatch. */
        cr_assert_eq(openssl_check("req", &out), 0, "%s", out);
        cr_assert_not_null(strstr(out, "Response verify OK"), "%s", out);
        cr_assert_null(strstr(out, "WARNING"), "nonce %d: %s", ok[i], out);
        cr_assert_null(strstr(out, "Nonce Verify error"), "nonce %d: %s", ok[i], out);
        cr_assert_not_null(strstr(out, "Cert Status: good"), "%s", out);
        if (i == 2)
            cr_assert_not_null(strstr(out, "Hash Algorithm: sha256"), "%s", out);
        free(out);
    }
    request_with_nonce("req", 33, false);
    cr_assert_eq(respond("req", &out), 2, "%s", out);
    cr_assert_not_null(strstr(out, "RFC 8954"), "%s", out);
    free(out);
    expect_response_status("Responder Error: malformedrequest (1)");
}

Test(ocsp_respond, another_issuers_certificate_is_unauthorized_alone_and_unknown_beside_ours,
     .init = setup)
{
    char serial[64], *out = NULL;
    issue("", serial);
    cr_assert_eq(th_run(&out, "'%s' init '%s/other' --subject 'CN=Other CA'", fx.ctca, fx.dir),
                 0, "%s", out);
    free(out);
    /* Our serial, but named with the other CA's hashes. */
    cr_assert_eq(th_run(&out,
                        "openssl ocsp -issuer '%s/other/ca.pem' -serial 0x%s -no_nonce -reqout "
                        "'%s/other.der'",
                        fx.dir, serial, fx.dir),
                 0, "%s", out);
    free(out);
    cr_assert_eq(respond("other", &out), 1, "%s", out);
    cr_assert_not_null(strstr(out, "unauthorized"), "%s", out);
    free(out);
    expect_response_status("Responder Error: unauthorized (6)");

    cr_assert_eq(th_run(&out,
                        "openssl ocsp -issuer '%s/other/ca.pem' -serial 0x%s -issuer "
                        "'%s/ca.pem' -cert '%s/site.pem' -no_nonce -reqout '%s/mixed.der'",
                        fx.dir, serial, fx.ca_dir, fx.dir, fx.dir),
                 0, "%s", out);
    free(out);
    cr_assert_eq(respond("mixed", &out), 0, "%s", out);
    char want[128];
    snprintf(want, sizeof want, "serial %s: unknown (another issuer)", serial);
    cr_assert_not_null(strstr(out, want), "%s", out);
    snprintf(want, sizeof want, "serial %s: good", serial);
    cr_assert_not_null(strstr(out, want), "%s", out);
    free(out);
}

/* Starts `ctca ocsp serve` on a free port, after the shell commands pre
 * and with the options opts; server_url names it. */
static void serve_with(const char *pre, const char *opts)
{
    char log[400], cmd[1600];
    snprintf(log, sizeof log, "%s/serve.out", fx.dir);
    snprintf(cmd, sizeof cmd,
             "%s exec '%s' ocsp serve --ca '%s' --listen 127.0.0.1:0 %s >'%s' 2>&1", pre,
             fx.ctca, fx.ca_dir, opts, log);
    server_pid = fork();
    cr_assert(server_pid >= 0);
    if (server_pid == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 500; i++) {
        char line[256] = "";
        FILE *f = fopen(log, "r");
        bool up = f && fgets(line, sizeof line, f) &&
                  sscanf(line, "listening on %127s", server_url) == 1;
        if (f)
            fclose(f);
        if (up)
            return;
        cr_assert_eq(waitpid(server_pid, NULL, WNOHANG), 0, "ctca ocsp serve exited");
        usleep(20000);
    }
    cr_assert_fail("ctca ocsp serve did not come up");
}

static void serve(void)
{
    serve_with("", "");
}

/* Opens up to n idle TCP connections to server_url's port from the loopback
 * address src (all of 127/8 is loopback), waiting at most 5 s for them to
 * connect; fds gets them (-1 for one that did not). Returns how many did. */
static size_t idle_connections(const char *src, int *fds, size_t n)
{
    int port = 0;
    cr_assert_eq(sscanf(server_url, "http://127.0.0.1:%d/", &port), 1, "%s", server_url);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)},
                       from = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    cr_assert_eq(inet_pton(AF_INET, src, &from.sin_addr), 1);
    for (size_t i = 0; i < n; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        cr_assert_geq(fds[i], 0, "socket: %s", strerror(errno));
        cr_assert_eq(bind(fds[i], (struct sockaddr *)&from, sizeof from), 0, "bind %s: %s", src,
                     strerror(errno));
        if (connect(fds[i], (struct sockaddr *)&to, sizeof to) != 0 && errno != EINPROGRESS) {
            close(fds[i]);
            fds[i] = -1;
        }
    }
    size_t up = 0;
    for (size_t i = 0; i < n; i++) {
        if (fds[i] < 0)
            continue;
        struct pollfd p = {.fd = fds[i], .events = POLLOUT};
        int err = 0;
        socklen_t len = sizeof err;
        if (poll(&p, 1, 5000) == 1 && getsockopt(fds[i], SOL_SOCKET, SO_ERROR, &err, &len) == 0 &&
            err == 0)
            up++;
    }
    return up;
}

Test(ocsp_respond, openssl_ocsp_verifies_what_ocsp_serve_answers_over_post_and_get, .init = setup)
{
    char serial[64], *out = NULL;
    issue("", serial);
    serve();
    /* openssl ocsp as a relying party: POST, nonce, signature and status. */
    cr_assert_eq(th_run(&out,
                        "openssl ocsp -issuer '%s/ca.pem' -cert '%s/site.pem' -url '%s'"
                        " -CAfile '%s/ca.pem'",
                        fx.ca_dir, fx.dir, server_url, fx.ca_dir),
                 0, "%s", out);
    cr_assert_not_null(strstr(out, "Response verify OK"), "%s", out);
    cr_assert_not_null(strstr(out, "site.pem: good"), "%s", out);
    cr_assert_null(strstr(out, "WARNING"), "%s", out);
    free(out);

    /* RFC 5019 GET: the base64 request, URL-encoded, as the path. */
    request_for_site("req", "-no_nonce");
    cr_assert_eq(th_run(&out,
                        "b64=$(base64 -w0 '%s/req.der' | sed 's/+/%%2B/g; s,/,%%2F,g; "
                        "s/=/%%3D/g') && curl -sS -D '%s/headers' -o '%s/resp.der' '%s'\"$b64\"",
                        fx.dir, fx.dir, fx.dir, server_url),
                 0, "%s", out);
    free(out);
    cr_assert_eq(openssl_check("req", &out), 0, "%s", out);
    cr_assert_not_null(strstr(out, "Response verify OK"), "%s", out);
    cr_assert_not_null(strstr(out, "Cert Status: good"), "%s", out);
    free(out);
    cr_assert_eq(th_run(&out, "cat '%s/headers'", fx.dir), 0);
    cr_assert_not_null(strstr(out, "application/ocsp-response"), "%s", out);
    cr_assert_not_null(strstr(out, "max-age=345600"), "96 hours by default: %s", out);
    free(out);

    /* Garbage is answered malformedRequest, over HTTP 200; other methods 405. */
    cr_assert_eq(th_run(&out,
                        "curl -sS -o '%s/resp.der' -H 'Content-Type: application/ocsp-request'"
                        " --data-binary 'garbage' '%s'",
                        fx.dir, server_url),
                 0, "%s", out);
    free(out);
    expect_response_status("Responder Error: malformedrequest (1)");
    cr_assert_eq(th_run(&out, "curl -sS -o /dev/null -w '%%{http_code}' -X PUT '%s'", server_url),
                 0);
    cr_assert_str_eq(out, "405");
    free(out);

    /* A revocation shows at once. */
    cr_assert_eq(th_run(&out, "'%s' revoke --ca '%s' %s --reason superseded", fx.ctca,
                        fx.ca_dir, serial),
                 0, "%s", out);
    free(out);
    cr_assert_eq(th_run(&out,
                        "openssl ocsp -issuer '%s/ca.pem' -cert '%s/site.pem' -url '%s'"
                        " -CAfile '%s/ca.pem'",
                        fx.ca_dir, fx.dir, server_url, fx.ca_dir),
                 0, "%s", out);
    cr_assert_not_null(strstr(out, "site.pem: revoked"), "%s", out);
    cr_assert_not_null(strstr(out, "Reason: superseded"), "%s", out);
    free(out);

    /* It stops on SIGTERM with status 0. */
    int status = 0;
    kill(server_pid, SIGTERM);
    cr_assert_eq(waitpid(server_pid, &status, 0), server_pid);
    server_pid = 0;
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);
}

/* About 1,020 idle connections made ocsp serve reset every new client
 * (select() cannot watch descriptors past FD_SETSIZE, a 30 s idle timeout,
 * no per-address limit). 1,100 idle connections, spread over 25 loopback
 * source addresses (44 each, below the per-address limit) with the server
 * started at the common soft limit of 1,024 open files, and a real request
 * is still answered; 80 more from one address hit its limit of 64 and that
 * address is refused while the others are served. Bounded: loopback only,
 * 1,180 sockets, seconds. */
Test(ocsp_respond, ocsp_serve_answers_a_real_request_past_1100_idle_connections, .init = setup,
     .timeout = 120)
{
    enum { SOURCES = 25, PER_SOURCE = 44, FLOOD = 80, TOTAL = SOURCES * PER_SOURCE + FLOOD };
    struct rlimit rl;
    cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < TOTAL + 256)
        cr_skip_test("the hard open-file limit %lu is too low", (unsigned long)rl.rlim_max);
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < TOTAL + 256) {
        rl.rlim_cur = TOTAL + 256;
        cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
    }
    char serial[64], *out = NULL;
    issue("", serial);
    request_for_site("req", "-no_nonce");
    serve_with("ulimit -Sn 1024 &&", "");

    static int fds[TOTAL];
    size_t up = 0;
    for (int k = 0; k < SOURCES; k++) {
        char src[32];
        snprintf(src, sizeof src, "127.0.0.%d", 10 + k);
        up += idle_connections(src, fds + k * PER_SOURCE, PER_SOURCE);
    }
    cr_assert_eq(up, SOURCES * PER_SOURCE, "only %zu idle connections were made", up);
    usleep(300000); /* let the server accept them all */

    const char *post = "curl -sS --max-time 10 -o '%s/resp.der' -H 'Content-Type: "
                       "application/ocsp-request' --data-binary @'%s/req.der' %s '%s'";
    cr_assert_eq(th_run(&out, post, fx.dir, fx.dir, "", server_url), 0,
                 "no answer past %zu idle connections: %s", up, out);
    free(out);
    cr_assert_eq(openssl_check("req", &out), 0, "%s", out);
    cr_assert_not_null(strstr(out, "Cert Status: good"), "%s", out);
    free(out);

    /* One address past its limit: refused there, served elsewhere. */
    idle_connections("127.0.0.200", fds + SOURCES * PER_SOURCE, FLOOD);
    usleep(300000);
    cr_assert_neq(th_run(&out, post, fx.dir, fx.dir, "--interface 127.0.0.200", server_url), 0,
                  "the per-address limit let a 65th connection through: %s", out);
    free(out);
    unlink("resp.der");
    cr_assert_eq(th_run(&out, post, fx.dir, fx.dir, "--interface 127.0.0.2", server_url), 0,
                 "%s", out);
    free(out);
    cr_assert_eq(openssl_check("req", &out), 0, "%s", out);
    free(out);
    for (size_t i = 0; i < TOTAL; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    cr_assert_eq(th_run(&out, "grep -c 'open-file limit' '%s/serve.out' || true", fx.dir), 0);
    cr_assert_str_eq(out, "0\n", "the server could not raise its open-file limit");
    free(out);
}

Test(ocsp_respond, an_unembedded_issuance_finished_by_the_queue_gets_scts_that_pass_chrome_policy,
     .init = setup_failing_logs)
{
    char serial[64], *out = NULL;
    issue("--fallback unembedded", serial);
    request_for_site("req", "");
    cr_assert_eq(respond("req", &out), 0, "%s", out);
    cr_assert_not_null(strstr(out, ": good, 0 SCTs"), "the logs refused: %s", out);
    free(out);
    cr_assert_eq(th_run(&out, "'%s' queue run --ca '%s' --once", fx.ctca, fx.ca_dir), 0, "%s",
                 out);
    free(out);
    cr_assert_eq(respond("req", &out), 0, "%s", out);
    cr_assert_not_null(strstr(out, ": good, 2 SCTs"), "%s", out);
    free(out);
    cr_assert_eq(openssl_check("req", &out), 0, "%s", out);
    cr_assert_not_null(strstr(out, "Response verify OK"), "%s", out);
    cr_assert_not_null(strstr(out, "CT Certificate SCTs"), "%s", out);
    free(out);
    cr_assert_eq(th_run(&out,
                        "'%s' verify '%s/site.pem' --issuer '%s/ca.pem' --log-list '%s'"
                        " --policy chrome --ocsp-response '%s/resp.der' --json",
                        fx.ctca, fx.dir, fx.ca_dir, fx.log_list, fx.dir),
                 0, "%s", out);
    cr_assert_not_null(strstr(out, "\"verdict\":\"compliant\""), "%s", out);
    cr_assert_not_null(strstr(out, "\"valid_count\":2"), "%s", out);
    cr_assert_not_null(strstr(out, "\"cert_status\":\"good\""), "%s", out);
    cr_assert_not_null(strstr(out, "\"signer\":\"issuer\""), "%s", out);
    free(out);
}

/* A responder key and certificate the CA issues with openssl, with the EKU ext. */
static void make_responder(const char *name, const char *eku)
{
    char *out = NULL;
    cr_assert_eq(th_run(&out,
                        "cd '%s' && openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256"
                        " -nodes -keyout %s.key -subj '/CN=OCSP responder' -out %s.csr && chmod"
                        " 600 %s.key && printf 'extendedKeyUsage = %s\\n' > %s.ext && openssl x509"
                        " -req -in %s.csr -CA ca.pem -CAkey ca.key -days 30 -extfile %s.ext -out"
                        " %s.pem",
                        fx.ca_dir, name, name, name, eku, name, name, name, name),
                 0, "%s", out);
    free(out);
    char value[128];
    snprintf(value, sizeof value, "{\"responder_cert\": \"%s.pem\", \"responder_key\": \"%s.key\"}",
             name, name);
    th_ca_config_set(&fx, "", "ocsp", value);
}

Test(ocsp_respond, a_delegated_responder_signs_when_configured_and_must_have_the_ocsp_signing_eku,
     .init = setup)
{
    char serial[64], *out = NULL;
    issue("", serial);
    make_responder("responder", "OCSPSigning");
    request_for_site("req", "");
    cr_assert_eq(respond("req", &out), 0, "%s", out);
    free(out);
    cr_assert_eq(openssl_check("req", &out), 0, "%s", out);
    cr_assert_not_null(strstr(out, "Response verify OK"), "%s", out);
    cr_assert_not_null(strstr(out, "Subject: CN=OCSP responder"), "the certificate is sent: %s",
                       out);
    free(out);
    cr_assert_eq(th_run(&out,
                        "'%s' verify '%s/site.pem' --issuer '%s/ca.pem' --log-list '%s'"
                        " --ocsp-response '%s/resp.der' --json",
                        fx.ctca, fx.dir, fx.ca_dir, fx.log_list, fx.dir),
                 0, "%s", out);
    cr_assert_not_null(strstr(out, "\"signer\":\"delegated\""), "%s", out);
    free(out);

    make_responder("server_auth", "serverAuth");
    cr_assert_eq(respond("req", &out), 2, "%s", out);
    cr_assert_not_null(strstr(out, "lacks the id-kp-OCSPSigning"), "%s", out);
    free(out);
}
