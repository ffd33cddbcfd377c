/*
 * fuzz_bench_zmtp — the store benchmark's bare ZMTP client
 * (tests/bench/store/zmtp.h) reading whatever a peer sends after the
 * handshake: the input is written into one end of a socketpair and
 * zmtp_next reads the other until it has no whole frame left. Every
 * message it hands out lies inside what was sent (its bytes are touched,
 * so ASan sees a read outside its buffer), a message costs at least its
 * two header bytes, and PINGs get their PONG written back without harm.
 */
#include "fuzz_check.h"
#include "zmtp.h"

#include <sys/socket.h>
#include <unistd.h>

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    int sv[2];
    if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0)
        return 0;
    size_t written = 0;
    while (written < size) {
        ssize_t n = write (sv[1], data + written, size - written);
        if (n <= 0)
            break; /* a socketpair's buffer holds what libFuzzer makes: not reached */
        written += (size_t)n;
    }
    shutdown (sv[1], SHUT_WR); /* the reader sees the end; PONGs still go out */
    zmtp_t *z = zmtp_adopt (sv[0]);
    if (!z) {
        close (sv[0]);
        close (sv[1]);
        return 0;
    }
    zmtp_set_quiet (z, true);
    size_t consumed = 0;
    for (;;) {
        const void *msg;
        size_t len;
        int rc = zmtp_next (z, &msg, &len);
        if (rc <= 0) {
            FUZZ_CHECK (rc == 0 || zmtp_error (z)[0] != '\0');
            break;
        }
        consumed += 2 + len;
        FUZZ_CHECK (consumed <= written);
        if (len) {
            volatile uint8_t edge = ((const uint8_t *)msg)[0];
            edge = ((const uint8_t *)msg)[len - 1];
            (void)edge;
        }
    }
    zmtp_destroy (&z);
    close (sv[1]);
    return 0;
}
