/*
 * io_sched — see io_sched.h.
 */
#define _GNU_SOURCE /* SCHED_BATCH */
#include "io_sched.h"

#include "log.h"

#include <pthread.h>
#include <sched.h>
#include <string.h>

/* What libzmq's new threads do (src/thread.cpp, 4.3): keep the priority
   they inherit and change the policy. A priority other than 0 (a process
   started under SCHED_FIFO or SCHED_RR) makes that EINVAL. */
static void *
s_try_batch (void *arg)
{
    int policy;
    struct sched_param param;
    int rc = pthread_getschedparam (pthread_self (), &policy, &param);
    if (rc == 0)
        rc = pthread_setschedparam (pthread_self (), SCHED_BATCH, &param);
    *(int *)arg = rc;
    return NULL;
}

int
io_sched_policy (bool batch)
{
    if (!batch)
        return -1;
    int refused = 0;
    pthread_t tid;
    int rc = pthread_create (&tid, NULL, s_try_batch, &refused);
    if (rc == 0)
        pthread_join (tid, NULL);
    else
        refused = rc;
    if (refused == 0)
        return SCHED_BATCH;
    log_warn ("--io-sched batch: SCHED_BATCH refused (%s); ZeroMQ's threads keep the default "
              "scheduling",
              strerror (refused));
    return -1;
}
