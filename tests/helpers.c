#include "tests/helpers.h"

#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char *join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *s = malloc(n);
    cr_assert_not_null(s);
    snprintf(s, n, "%s/%s", a, b);
    return s;
}

char *th_upstream(const char *rel)
{
    return join(CTCA_SOURCE_DIR "/tests/data/upstream", rel);
}

char *th_bin(const char *name)
{
    return join(CTCA_BINARY_DIR, name);
}

uint8_t *th_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);
    cr_assert_not_null(buf);
    size_t r;
    while ((r = fread(buf + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            cr_assert_not_null(buf);
        }
    }
    fclose(f);
    *len = n;
    return buf;
}

uint8_t *th_read_pem_der(const char *path, size_t *len)
{
    BIO *bio = BIO_new_file(path, "r");
    cr_assert_not_null(bio, "cannot open %s", path);
    char *name = NULL, *header = NULL;
    unsigned char *data = NULL;
    long n = 0;
    cr_assert(PEM_read_bio(bio, &name, &header, &data, &n) == 1, "no PEM in %s", path);
    BIO_free(bio);
    OPENSSL_free(name);
    OPENSSL_free(header);
    uint8_t *out = malloc((size_t)n ? (size_t)n : 1);
    cr_assert_not_null(out);
    memcpy(out, data, (size_t)n);
    OPENSSL_free(data);
    *len = (size_t)n;
    return out;
}

void th_write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "cannot create %s", path);
    cr_assert_eq(fwrite(data, 1, len, f), len);
    cr_assert_eq(fclose(f), 0);
}

int th_run(char **output, const char *fmt, ...)
{
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(cmd, sizeof cmd - 8, fmt, ap);
    va_end(ap);
    cr_assert(n > 0 && (size_t)n < sizeof cmd - 8, "command too long");
    strcat(cmd, " 2>&1");
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p, "popen failed");
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    cr_assert_not_null(buf);
    size_t r;
    while ((r = fread(buf + len, 1, cap - len - 1, p)) > 0) {
        len += r;
        if (len + 1 == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            cr_assert_not_null(buf);
        }
    }
    buf[len] = '\0';
    int st = pclose(p);
    if (output)
        *output = buf;
    else
        free(buf);
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    return 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

char *th_tmpdir(void)
{
    char tmpl[] = "/tmp/ctca-test-XXXXXX";
    cr_assert_not_null(mkdtemp(tmpl));
    return strdup(tmpl);
}

void th_rmdir(const char *path)
{
    if (path != NULL && strncmp(path, "/tmp/ctca-test-", 15) == 0)
        cr_expect_eq(th_run(NULL, "rm -rf '%s'", path), 0);
}

void th_testlog_start(th_testlog *t, const char *dir, const char *name, const char *operator_name,
                      const char *roots, const char *extra_args)
{
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    snprintf(t->operator_name, sizeof t->operator_name, "%s", operator_name);
    t->ct_version = strstr(extra_args, "--ct-version 2") != NULL ? 2 : 1;
    snprintf(t->key, sizeof t->key, "%s/%s.key", dir, name);
    snprintf(t->pub, sizeof t->pub, "%s/%s.pub", dir, name);
    cr_assert_eq(th_run(NULL,
                        "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out '%s'"
                        " && openssl pkey -in '%s' -pubout -out '%s'",
                        t->key, t->key, t->pub),
                 0, "generating the log key");
    char out[600], cmd[4096];
    snprintf(out, sizeof out, "%s/%s.out", dir, name);
    unlink(out); /* a restarted log must not be read at its old address */
    char *bin = th_bin("ctca-testlog");
    snprintf(cmd, sizeof cmd, "exec '%s' --listen 127.0.0.1:0 --key '%s' --roots '%s' %s >'%s' 2>&1",
             bin, t->key, roots, extra_args, out);
    free(bin);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    t->pid = pid;
    for (int i = 0; i < 200 && t->url[0] == '\0'; i++) {
        FILE *f = fopen(out, "r");
        char line[256];
        if (f && fgets(line, sizeof line, f) && sscanf(line, "listening on %127s", t->url) == 1) {
            fclose(f);
            break;
        }
        if (f)
            fclose(f);
        usleep(25000);
    }
    cr_assert(t->url[0] != '\0', "ctca-testlog %s did not start (see %s)", name, out);
}

void th_testlog_stop(th_testlog *t)
{
    if (t->pid > 0) {
        kill(t->pid, SIGTERM);
        waitpid(t->pid, NULL, 0);
        t->pid = 0;
    }
}

void th_log_list_write(const char *path, th_testlog *logs, size_t n, int64_t timestamp_ms)
{
    size_t cap = 65536, len = 0;
    char *json = malloc(cap);
    cr_assert_not_null(json);
    char ts[32];
    time_t secs = (time_t)(timestamp_ms / 1000);
    struct tm tm;
    cr_assert_not_null(gmtime_r(&secs, &tm));
    cr_assert(strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm) > 0);
    len += (size_t)snprintf(json, cap,
                            "{\"version\":\"1.0\",\"log_list_timestamp\":\"%s\",\"operators\":[",
                            ts);
    bool done[64] = {false};
    cr_assert(n <= 64);
    bool first_op = true;
    for (size_t i = 0; i < n; i++) {
        if (done[i])
            continue;
        len += (size_t)snprintf(json + len, cap - len, "%s{\"name\":\"%s\",\"email\":[],\"logs\":[",
                                first_op ? "" : ",", logs[i].operator_name);
        first_op = false;
        bool first_log = true;
        for (size_t j = i; j < n; j++) {
            if (done[j] || strcmp(logs[j].operator_name, logs[i].operator_name) != 0)
                continue;
            done[j] = true;
            char *bin = th_bin("ctca-testlog"), *entry = NULL;
            const char *hostport = logs[j].url + strlen("http://");
            char hp[64];
            snprintf(hp, sizeof hp, "%.*s", (int)(strlen(hostport) - 1), hostport);
            cr_assert_eq(th_run(&entry, "'%s' --print-log-entry --listen %s --key '%s' "
                                        "--description '%s' %s",
                                bin, hp, logs[j].key, logs[j].name,
                                logs[j].ct_version == 2 ? "--ct-version 2" : ""),
                         0, "--print-log-entry failed");
            free(bin);
            len += (size_t)snprintf(json + len, cap - len, "%s%s", first_log ? "" : ",", entry);
            first_log = false;
            free(entry);
        }
        len += (size_t)snprintf(json + len, cap - len, "]}");
    }
    len += (size_t)snprintf(json + len, cap - len, "]}\n");
    cr_assert(len < cap);
    th_write_file(path, json, len);
    free(json);
}

/* ---- th_ca ------------------------------------------------------------------ */

void th_ca_init(th_ca *c, const char *init_args)
{
    memset(c, 0, sizeof *c);
    c->dir = th_tmpdir();
    c->ctca = th_bin("ctca");
    snprintf(c->ca_dir, sizeof c->ca_dir, "%s/ca", c->dir);
    snprintf(c->roots, sizeof c->roots, "%s/ca.pem", c->ca_dir);
    snprintf(c->log_list, sizeof c->log_list, "%s/log_list.json", c->dir);
    if (init_args == NULL)
        return;
    char *out = NULL;
    cr_assert_eq(th_run(&out, "'%s' init '%s' %s", c->ctca, c->ca_dir, init_args), 0,
                 "ctca init: %s", out);
    free(out);
}

void th_ca_csr(th_ca *c, const char *san)
{
    snprintf(c->csr, sizeof c->csr, "%s/site.csr", c->dir);
    char *out = NULL;
    cr_assert_eq(th_run(&out,
                        "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
                        " -keyout '%s/site.key' -subj /CN=www.example.com"
                        " -addext subjectAltName=%s -out '%s'",
                        c->dir, san, c->csr),
                 0, "making the CSR: %s", out);
    free(out);
}

void th_ca_start_logs(th_ca *c, size_t n, const char *const *specs, const char *const *extra)
{
    cr_assert(c->n_logs + n <= TH_CA_MAX_LOGS);
    for (size_t i = 0; i < n; i++) {
        char op[64], name[64];
        cr_assert_eq(sscanf(specs[i], "%63[^:]:%63s", op, name), 2, "log spec %s", specs[i]);
        th_testlog_start(&c->logs[c->n_logs++], c->dir, name, op, c->roots,
                         extra != NULL ? extra[i] : "");
    }
    /* Dated now: Chrome's policy refuses a list 70 days old. */
    th_log_list_write(c->log_list, c->logs, c->n_logs, (int64_t)time(NULL) * 1000);
}

void th_ca_log_restart(const th_ca *c, th_testlog *t, const char *extra)
{
    int port = 0;
    cr_assert_eq(sscanf(t->url, "http://127.0.0.1:%d/", &port), 1);
    char out[600], cmd[4096];
    snprintf(out, sizeof out, "%s/%s.restart.out", c->dir, t->name);
    char *bin = th_bin("ctca-testlog");
    snprintf(cmd, sizeof cmd,
             "exec '%s' --listen 127.0.0.1:%d --key '%s' --roots '%s' %s >'%s' 2>&1", bin, port,
             t->key, c->roots, extra, out);
    free(bin);
    for (int attempt = 0; attempt < 50; attempt++) {
        unlink(out);
        pid_t pid = fork();
        cr_assert(pid >= 0);
        if (pid == 0) {
            execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
            _exit(127);
        }
        for (int i = 0; i < 100; i++) {
            char line[256] = "";
            FILE *f = fopen(out, "r");
            bool up = f && fgets(line, sizeof line, f) && strncmp(line, "listening on", 12) == 0;
            if (f)
                fclose(f);
            if (up) {
                t->pid = pid;
                return;
            }
            if (waitpid(pid, NULL, WNOHANG) == pid)
                break; /* the port is not free yet */
            usleep(20000);
        }
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        usleep(100000);
    }
    cr_assert_fail("ctca-testlog %s did not come back on port %d", t->name, port);
}

void th_ca_stop_logs(th_ca *c)
{
    for (size_t i = 0; i < c->n_logs; i++)
        th_testlog_stop(&c->logs[i]);
    c->n_logs = 0;
}

void th_ca_config_set(const th_ca *c, const char *section, const char *key, const char *value)
{
    char path[400];
    snprintf(path, sizeof path, "%s/ctca.json", c->ca_dir);
    size_t len = 0;
    uint8_t *text = th_read_file(path, &len);
    cJSON *root = cJSON_ParseWithLength((const char *)text, len);
    free(text);
    cr_assert_not_null(root, "%s is not JSON", path);
    cJSON *obj = root;
    if (section[0] != '\0') {
        obj = cJSON_GetObjectItemCaseSensitive(root, section);
        if (obj == NULL)
            obj = cJSON_AddObjectToObject(root, section);
        cr_assert(cJSON_IsObject(obj), "%s: %s is not an object", path, section);
    }
    cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
    if (value != NULL) {
        cJSON *v = cJSON_Parse(value);
        cr_assert_not_null(v, "bad JSON value %s", value);
        cJSON_AddItemToObject(obj, key, v);
    }
    char *out = cJSON_Print(root);
    cr_assert_not_null(out);
    th_write_file(path, out, strlen(out));
    cJSON_free(out);
    cJSON_Delete(root);
}

void th_ca_ctlog_cnf(const th_ca *c, const char *path)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "cannot create %s", path);
    fprintf(f, "enabled_logs = ");
    for (size_t i = 0; i < c->n_logs; i++)
        fprintf(f, "%s%s", i > 0 ? "," : "", c->logs[i].name);
    fprintf(f, "\n");
    for (size_t i = 0; i < c->n_logs; i++) {
        char *b64 = NULL;
        cr_assert_eq(th_run(&b64, "openssl pkey -pubin -in '%s' -outform DER | base64 -w0",
                            c->logs[i].pub),
                     0);
        fprintf(f, "[%s]\ndescription = %s\nkey = %s\n", c->logs[i].name, c->logs[i].name, b64);
        free(b64);
    }
    cr_assert_eq(fclose(f), 0);
}

void th_ca_openssl_ct_check(const th_ca *c, const char *cert, const char *serverinfo)
{
    char ctlogs[400], script[400];
    snprintf(ctlogs, sizeof ctlogs, "%s/ct_log_list.cnf", c->dir);
    th_ca_ctlog_cnf(c, ctlogs);
    /* OpenSSL judges SCT timestamps against the TLS session time in whole
     * seconds (ssl_validate_ct), so an SCT younger than a second counts as
     * "future": let one second pass first. */
    sleep(1);
    /* s_server on a free port (another when it is taken); connect once it
     * accepts. */
    snprintf(script, sizeof script, "%s/s_client.sh", c->dir);
    FILE *f = fopen(script, "w");
    cr_assert_not_null(f);
    fprintf(f,
            "for try in 1 2 3 4 5; do\n"
            "  port=$(( $(od -An -N2 -tu2 /dev/urandom) %% 30000 + 20000 ))\n"
            "  openssl s_server -quiet -accept 127.0.0.1:$port -cert '%s' -key '%s/site.key'"
            " %s%s%s -www >/dev/null 2>&1 & srv=$!\n"
            "  for i in $(seq 1 50); do\n"
            "    kill -0 $srv 2>/dev/null || break\n"
            "    out=$(echo | openssl s_client -connect 127.0.0.1:$port -CAfile '%s' -ct"
            " -ctlogfile '%s' -verify_return_error 2>&1); rc=$?\n"
            "    case \"$out\" in *CONNECTED*) echo \"$out\"; kill $srv; exit $rc;; esac\n"
            "    sleep 0.1\n"
            "  done\n"
            "  kill $srv 2>/dev/null; wait $srv 2>/dev/null\n"
            "done\n"
            "echo 'no s_server could be started'; exit 3\n",
            cert, c->dir, serverinfo ? "-serverinfo '" : "", serverinfo ? serverinfo : "",
            serverinfo ? "'" : "", c->roots, ctlogs);
    cr_assert_eq(fclose(f), 0);
    char *out = NULL;
    cr_assert_eq(th_run(&out, "bash '%s'", script), 0, "s_client: %s", out);
    /* Every SCT OpenSSL reports is valid (an SCT from a log missing from
     * ct_log_list.cnf would be "unknown log"), and the policies of these
     * tests need at least two. */
    size_t reported = 0, valid = 0;
    static const char status[] = "SCT validation status: ";
    for (const char *p = strstr(out, status); p != NULL; p = strstr(p + 1, status)) {
        reported++;
        valid += strncmp(p + strlen(status), "valid\n", 6) == 0;
    }
    cr_assert(reported >= 2 && valid == reported, "%zu of %zu SCTs valid:\n%s", valid, reported,
              out);
    free(out);
}

void th_ca_cleanup(th_ca *c)
{
    th_ca_stop_logs(c);
    th_rmdir(c->dir);
    free(c->dir);
    free(c->ctca);
    memset(c, 0, sizeof *c);
}
