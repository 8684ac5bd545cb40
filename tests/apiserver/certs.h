/* The in-process test PKI. Owned by certs.c. */
#ifndef KLEASE_TESTS_KSIM_CERTS_H
#define KLEASE_TESTS_KSIM_CERTS_H

#include "ksim.h"

/* Makes (or reuses from a kept workdir) the CA and the server certificate. */
int ksim__certs_init(ksim *sim, char *err, size_t errlen);
void ksim__certs_free(ksim *sim);
/* Standard base64 of `data`, NUL-terminated; NULL on OOM. */
char *ksim__base64_encode(const char *data, size_t len);

#endif
