/* TLS to https logs: the peer's certificate and host name are verified (an
 * untrusted or misnamed log is a transport error, never an answer), and a
 * configured trust anchor file is honoured. The peer is `openssl s_server`. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctca/ctclient.h"
#include "tests/helpers.h"

static char *dir;
static pid_t server;
static int port;
static char cert[400];

static ctca_ctclient *client(const char *ca_file)
{
    ctca_ctclient_config cfg = {.ca_file = ca_file, .log_timeout_ms = 5000};
    ctca_ctclient *c = NULL;
    cr_assert_eq(ctca_ctclient_new(&cfg, &c), CTCA_OK);
    return c;
}

static ctca_err get(ctca_ctclient *c, const char *host, ctca_errbuf *eb)
{
    char url[128];
    snprintf(url, sizeof url, "https://%s:%d/", host, port);
    uint8_t *body = NULL;
    size_t len = 0;
    ctca_err rc = ctca_ctclient_get(c, url, "ct/v1/get-sth", ctca_ctclient_now_ms(c) + 5000,
                                    &body, &len, NULL, eb);
    free(body);
    return rc;
}

/* A self-signed certificate for IP 127.0.0.1 only, served by s_server on a
 * free port (another is tried when one is taken). */
static void setup(void)
{
    dir = th_tmpdir();
    snprintf(cert, sizeof cert, "%s/log.pem", dir);
    cr_assert_eq(th_run(NULL,
                        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1"
                        " -nodes -keyout '%s/log.key' -out '%s' -days 2 -subj /CN=log"
                        " -addext subjectAltName=IP:127.0.0.1",
                        dir, cert),
                 0);
    ctca_ctclient *c = client(cert);
    for (int attempt = 0; attempt < 10 && server == 0; attempt++) {
        port = 20000 + (int)((unsigned)getpid() * 7919u + (unsigned)attempt * 104729u) % 30000;
        char cmd[1200];
        snprintf(cmd, sizeof cmd,
                 "exec openssl s_server -quiet -accept 127.0.0.1:%d -cert '%s' -key '%s/log.key'"
                 " -www >/dev/null 2>&1",
                 port, cert, dir);
        pid_t pid = fork();
        cr_assert(pid >= 0);
        if (pid == 0) {
            execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
            _exit(127);
        }
        for (int i = 0; i < 50; i++) {
            if (waitpid(pid, NULL, WNOHANG) == pid)
                break;
            if (get(c, "127.0.0.1", NULL) == CTCA_OK) {
                server = pid;
                break;
            }
            usleep(100000);
        }
        if (server == 0) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
        }
    }
    ctca_ctclient_free(c);
    cr_assert(server != 0, "no s_server could be started");
}

static void teardown(void)
{
    if (server > 0) {
        kill(server, SIGTERM);
        waitpid(server, NULL, 0);
        server = 0;
    }
    th_rmdir(dir);
    free(dir);
}

TestSuite(ctclient_tls, .init = setup, .fini = teardown, .timeout = 60);

Test(ctclient_tls, a_log_whose_certificate_is_not_trusted_is_refused)
{
    ctca_ctclient *c = client(NULL);
    ctca_errbuf eb = {{0}};
    cr_assert_eq(get(c, "127.0.0.1", &eb), CTCA_ERR_HTTP, "%s", eb.msg);
    cr_assert_not_null(strstr(eb.msg, "certificate"), "%s", eb.msg);
    ctca_ctclient_free(c);
}

Test(ctclient_tls, a_trusted_log_is_reached_and_its_name_must_match)
{
    ctca_ctclient *c = client(cert);
    ctca_errbuf eb = {{0}};
    cr_assert_eq(get(c, "127.0.0.1", &eb), CTCA_OK, "%s", eb.msg);
    /* Same server and trust, but the certificate does not name "localhost". */
    cr_assert_eq(get(c, "localhost", &eb), CTCA_ERR_HTTP, "%s", eb.msg);
    cr_assert(strstr(eb.msg, "name") != NULL || strstr(eb.msg, "subject") != NULL, "%s", eb.msg);
    ctca_ctclient_free(c);
}
