/* Starts klease-apiserver-sim (path in argv[1]), reads the port and the
 * kubeconfig it prints, and talks to it with the curl command-line tool over
 * TLS using only what the kubeconfig says; then stops it with SIGTERM. */
#include "cmocka_wrap.h"

#include <errno.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *binary;

static char *kubeconfig_value(const char *text, const char *key)
{
    const char *p = strstr(text, key);
    if (p == NULL)
        return NULL;
    p += strlen(key);
    while (*p == ' ')
        p++;
    return strndup(p, strcspn(p, "\n"));
}

/* Runs a shell command and returns its stdout. */
static char *run(const char *cmd)
{
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char *out = calloc(1, 65536);
    size_t n = fread(out, 1, 65535, p);
    out[n] = '\0';
    pclose(p);
    return out;
}

static void test_binary_serves_a_lease_to_curl_with_its_kubeconfig(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    char hist[] = "/tmp/ksim-bin-history-XXXXXX";
    int hfd = mkstemp(hist);
    assert_true(hfd >= 0);
    close(hfd);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        execl(binary, binary, "--history", hist, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    FILE *out = fdopen(fds[0], "r");
    char line[4096], kubeconfig[4096] = "";
    unsigned port = 0;
    /* Generous: certificate generation and start take milliseconds. */
    while ((port == 0 || kubeconfig[0] == '\0') && fgets(line, sizeof(line), out)) {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, "port=", 5) == 0)
            port = (unsigned)strtoul(line + 5, NULL, 10);
        else if (strncmp(line, "kubeconfig=", 11) == 0)
            snprintf(kubeconfig, sizeof(kubeconfig), "%s", line + 11);
    }
    assert_true(port > 0);
    assert_true(kubeconfig[0] != '\0');

    FILE *kf = fopen(kubeconfig, "r");
    assert_non_null(kf);
    char text[16384];
    size_t n = fread(text, 1, sizeof(text) - 1, kf);
    text[n] = '\0';
    fclose(kf);
    char *server = kubeconfig_value(text, "server:");
    char *ca64 = kubeconfig_value(text, "certificate-authority-data:");
    char *token = kubeconfig_value(text, "token:");
    assert_non_null(server);
    assert_non_null(ca64);
    assert_non_null(token);
    char want_server[64];
    snprintf(want_server, sizeof(want_server), "https://127.0.0.1:%u", port);
    assert_string_equal(server, want_server);

    char ca_path[] = "/tmp/ksim-bin-ca-XXXXXX";
    int cfd = mkstemp(ca_path);
    assert_true(cfd >= 0);
    unsigned char ca[8192];
    int calen = EVP_DecodeBlock(ca, (unsigned char *)ca64, (int)strlen(ca64));
    assert_true(calen > 0);
    while (calen > 0 && ca[calen - 1] == 0)
        calen--; /* base64 padding decodes to zero bytes */
    assert_int_equal(write(cfd, ca, (size_t)calen), calen);
    close(cfd);

    char cmd[8192];
    const char *leases = "/apis/coordination.k8s.io/v1/namespaces/demo/leases";
    snprintf(cmd, sizeof(cmd),
             "curl -sS --max-time 10 --cacert %s -H 'Authorization: Bearer %s' -H "
             "'Content-Type: application/json' -X POST %s%s -d "
             "'{\"metadata\":{\"name\":\"lock\"},\"spec\":{\"holderIdentity\":\"pod-1\"}}' "
             "-o /dev/null -w '%%{http_code}'",
             ca_path, token, server, leases);
    char *res = run(cmd);
    assert_string_equal(res, "201");
    free(res);
    snprintf(cmd, sizeof(cmd),
             "curl -sS --max-time 10 --cacert %s -H 'Authorization: Bearer %s' "
             "%s%s/lock",
             ca_path, token, server, leases);
    res = run(cmd);
    assert_non_null(strstr(res, "\"holderIdentity\":\"pod-1\""));
    assert_non_null(strstr(res, "\"kind\":\"Lease\""));
    free(res);
    /* The control endpoint injects a fault into the running process. */
    snprintf(cmd, sizeof(cmd),
             "curl -sS --max-time 10 --cacert %s -H 'Authorization: Bearer %s' "
             "-X POST %s/_ksim/faults -d '{\"kind\":\"error\",\"status\":503,\"count\":1}' -o "
             "/dev/null -w '%%{http_code} ' && curl -sS --max-time 10 --cacert %s -H "
             "'Authorization: Bearer %s' %s%s/lock -o /dev/null -w '%%{http_code}'",
             ca_path, token, server, ca_path, token, server, leases);
    res = run(cmd);
    assert_string_equal(res, "201 503");
    free(res);

    assert_int_equal(kill(pid, SIGTERM), 0);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    fclose(out);
    /* Its temporary workdir (with the kubeconfig) is gone; the history stays. */
    struct stat st;
    assert_int_not_equal(stat(kubeconfig, &st), 0);
    FILE *hf = fopen(hist, "r");
    assert_non_null(hf);
    assert_non_null(fgets(line, sizeof(line), hf));
    assert_non_null(strstr(line, "\"op\":\"create\""));
    fclose(hf);
    unlink(hist);
    unlink(ca_path);
    free(server);
    free(ca64);
    free(token);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s PATH-TO-klease-apiserver-sim\n", argv[0]);
        return 2;
    }
    binary = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_binary_serves_a_lease_to_curl_with_its_kubeconfig),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
