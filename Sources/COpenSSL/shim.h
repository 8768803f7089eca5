#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/bio.h>

/* Macros in OpenSSL's headers, which Swift cannot call; these wrap them. */
static inline long copenssl_ctx_set_min_proto_tls12(SSL_CTX *ctx) {
    return SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
}

static inline long copenssl_ctx_set_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_mode(ctx, mode);
}

static inline long copenssl_release_buffers_mode(void) {
    return SSL_MODE_RELEASE_BUFFERS;
}
