/* check — see check.h. */
#include "check.h"

#include "log.h"
#include "store_client.h"

int
check_store (const char *endpoint, const curve_keypair_t *keys, int timeout_ms)
{
    store_client_config_t config = { .endpoint = endpoint,
                                     .curve_keys = keys,
                                     .curve_server_key = keys ? keys->public_key : NULL };
    store_client_t *client = store_client_new (&config);
    if (!client)
        return -1;
    proto_request_t req = { .op = PROTO_OP_PING };
    proto_reply_t reply;
    int result = -1;
    if (store_client_call (client, &req, timeout_ms, &reply) == 0) {
        result = reply.op == PROTO_OP_PING && reply.status == PROTO_OK ? 0 : -1;
        if (result != 0)
            log_error ("ping to %s answered %s", endpoint, proto_status_name (reply.status));
        proto_reply_clear (&reply);
    } else
        log_error ("no answer to ping from %s within %d ms", endpoint, timeout_ms);
    store_client_destroy (&client);
    return result;
}
