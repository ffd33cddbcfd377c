/*
 * crc32c — CRC-32C (Castagnoli, polynomial 0x1EDC6F41 reflected), the
 * checksum of every journal record, as in ext4, iSCSI and Kafka's log.
 * None of the project's libraries exports it (zlib's crc32 is the other
 * polynomial). Uses the SSE 4.2 crc32 instruction when the CPU has it,
 * checked once at run time, and a table otherwise; both give the same
 * values (test_journal checks the standard test vector on each).
 */
#ifndef HERALD_CRC32C_H
#define HERALD_CRC32C_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Extends crc (0 to start) over len bytes of buf. */
uint32_t crc32c (uint32_t crc, const void *buf, size_t len);

/* The table implementation alone, for tests and for CPUs without SSE 4.2. */
uint32_t crc32c_portable (uint32_t crc, const void *buf, size_t len);

/* True when crc32c uses the CPU instruction. */
bool crc32c_hardware (void);

#endif
