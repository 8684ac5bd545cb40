/* Test PKI made in process with OpenSSL: an EC P-256 CA, a server
 * certificate for 127.0.0.1 and localhost, client certificates on demand.
 * A CA found in a kept workdir is reused so kubeconfigs survive a restart. */
#include "certs.h"

#include "sim.h"

#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char *bio_string(BIO *b)
{
    char *data = NULL;
    long n = BIO_get_mem_data(b, &data);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (s) {
        memcpy(s, data, (size_t)n);
        s[n] = '\0';
    }
    return s;
}

static char *cert_pem(X509 *x)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *s = b && PEM_write_bio_X509(b, x) == 1 ? bio_string(b) : NULL;
    BIO_free(b);
    return s;
}

static char *key_pem(EVP_PKEY *k)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *s =
        b && PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL) == 1 ? bio_string(b) : NULL;
    BIO_free(b);
    return s;
}

static bool add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    bool ok = e != NULL && X509_add_ext(x, e, -1) == 1;
    X509_EXTENSION_free(e);
    return ok;
}

typedef enum cert_kind { CERT_CA, CERT_SERVER, CERT_CLIENT } cert_kind;

/* A certificate for `key` named `cn`, signed by issuer/issuer_key (self-
 * signed when issuer is NULL). */
static X509 *make_cert(cert_kind kind, const char *cn, EVP_PKEY *key, X509 *issuer,
                       EVP_PKEY *issuer_key)
{
    X509 *x = X509_new();
    BIGNUM *serial = BN_new();
    if (x == NULL || serial == NULL ||
        BN_rand(serial, 63, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
        BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x)) == NULL ||
        X509_set_version(x, 2) != 1 ||
        /* An hour of slack for clocks; CAs live long so a kept workdir stays useful. */
        X509_gmtime_adj(X509_getm_notBefore(x), -3600) == NULL ||
        X509_gmtime_adj(X509_getm_notAfter(x),
                        kind == CERT_CA ? 10L * 365 * 86400 : 825L * 86400) == NULL ||
        X509_set_pubkey(x, key) != 1)
        goto fail;
    X509_NAME *name = X509_get_subject_name(x);
    if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1,
                                   0) != 1 ||
        X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name) != 1)
        goto fail;
    X509 *iss = issuer ? issuer : x;
    bool ok = add_ext(x, iss, NID_subject_key_identifier, "hash");
    if (kind == CERT_CA) {
        ok = ok && add_ext(x, iss, NID_basic_constraints, "critical,CA:TRUE") &&
             add_ext(x, iss, NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature");
    } else {
        ok = ok && add_ext(x, iss, NID_authority_key_identifier, "keyid:always") &&
             add_ext(x, iss, NID_basic_constraints, "critical,CA:FALSE") &&
             add_ext(x, iss, NID_key_usage, "critical,digitalSignature,keyEncipherment") &&
             add_ext(x, iss, NID_ext_key_usage, kind == CERT_SERVER ? "serverAuth" : "clientAuth");
        if (kind == CERT_SERVER)
            ok = ok && add_ext(x, iss, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost");
    }
    if (!ok || X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()) <= 0)
        goto fail;
    BN_free(serial);
    return x;
fail:
    BN_free(serial);
    X509_free(x);
    return NULL;
}

static int write_file(const char *path, const char *data, mode_t mode)
{
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return -1;
    chmod(path, mode);
    size_t n = strlen(data);
    int rc = fwrite(data, 1, n, f) == n ? 0 : -1;
    if (fclose(f) != 0)
        rc = -1;
    return rc;
}

static char *join(const char *dir, const char *file)
{
    size_t n = strlen(dir) + strlen(file) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, file);
    return p;
}

/* Loads ca.crt + ca.key from the workdir when both are there. */
static void load_ca(ksim *sim)
{
    char *cp = join(sim->workdir, "ca.crt"), *kp = join(sim->workdir, "ca.key");
    FILE *cf = cp ? fopen(cp, "r") : NULL, *kf = kp ? fopen(kp, "r") : NULL;
    if (cf && kf) {
        sim->ca_cert = PEM_read_X509(cf, NULL, NULL, NULL);
        sim->ca_key = PEM_read_PrivateKey(kf, NULL, NULL, NULL);
        if (sim->ca_cert == NULL || sim->ca_key == NULL ||
            X509_check_private_key(sim->ca_cert, sim->ca_key) != 1) {
            X509_free(sim->ca_cert);
            EVP_PKEY_free(sim->ca_key);
            sim->ca_cert = NULL;
            sim->ca_key = NULL;
        }
    }
    if (cf)
        fclose(cf);
    if (kf)
        fclose(kf);
    free(cp);
    free(kp);
}

int ksim__certs_init(ksim *sim, char *err, size_t errlen)
{
    EVP_PKEY *skey = NULL;
    X509 *scert = NULL;
    char *ca_key_pem = NULL;
    int rc = -1;
    if (!sim->own_workdir)
        load_ca(sim);
    if (sim->ca_cert == NULL) {
        if ((sim->ca_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) == NULL ||
            (sim->ca_cert = make_cert(CERT_CA, "ksim-ca", sim->ca_key, NULL, NULL)) == NULL) {
            snprintf(err, errlen, "cannot generate the test CA");
            goto out;
        }
    }
    if ((skey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) == NULL ||
        (scert = make_cert(CERT_SERVER, "ksim-apiserver", skey, sim->ca_cert, sim->ca_key)) ==
            NULL ||
        (sim->ca_pem = cert_pem(sim->ca_cert)) == NULL ||
        (sim->server_cert_pem = cert_pem(scert)) == NULL ||
        (sim->server_key_pem = key_pem(skey)) == NULL ||
        (ca_key_pem = key_pem(sim->ca_key)) == NULL ||
        (sim->ca_path = join(sim->workdir, "ca.crt")) == NULL) {
        snprintf(err, errlen, "cannot generate the server certificate");
        goto out;
    }
    char *kp = join(sim->workdir, "ca.key");
    if (kp == NULL || write_file(sim->ca_path, sim->ca_pem, 0644) != 0 ||
        write_file(kp, ca_key_pem, 0600) != 0) {
        snprintf(err, errlen, "cannot write %s", sim->ca_path);
        free(kp);
        goto out;
    }
    free(kp);
    rc = 0;
out:
    free(ca_key_pem);
    X509_free(scert);
    EVP_PKEY_free(skey);
    return rc;
}

int ksim_issue_client_cert(ksim *sim, const char *cn, char **cert_out, char **key_out)
{
    if (sim == NULL || cn == NULL || cert_out == NULL || key_out == NULL || sim->ca_cert == NULL)
        return -1;
    *cert_out = *key_out = NULL;
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    X509 *x = NULL;
    if (k) {
        pthread_mutex_lock(&sim->mu); /* one signer at a time on the CA key */
        x = make_cert(CERT_CLIENT, cn, k, sim->ca_cert, sim->ca_key);
        pthread_mutex_unlock(&sim->mu);
    }
    if (x) {
        *cert_out = cert_pem(x);
        *key_out = key_pem(k);
    }
    X509_free(x);
    EVP_PKEY_free(k);
    if (*cert_out == NULL || *key_out == NULL) {
        free(*cert_out);
        free(*key_out);
        *cert_out = *key_out = NULL;
        return -1;
    }
    return 0;
}

void ksim__certs_free(ksim *sim)
{
    X509_free(sim->ca_cert);
    EVP_PKEY_free(sim->ca_key);
    free(sim->ca_pem);
    free(sim->ca_path);
    free(sim->server_cert_pem);
    if (sim->server_key_pem) {
        OPENSSL_cleanse(sim->server_key_pem, strlen(sim->server_key_pem));
        free(sim->server_key_pem);
    }
}

char *ksim__base64_encode(const char *data, size_t len)
{
    size_t n = 4 * ((len + 2) / 3) + 1;
    char *out = malloc(n);
    if (out)
        EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)data, (int)len);
    return out;
}
