/* crc32c.h - CRC-32C (Castagnoli), the checksum of journal records and files.
 *
 * The same polynomial as iSCSI, ext4 and RocksDB: reflected 0x82F63B78, initial
 * value and final xor ~0, so crc32c(0, "123456789", 9) == 0xE3069283. Uses the
 * SSE4.2 crc32 instruction when the CPU has it (checked at run time) and a
 * slicing-by-8 table otherwise. Thread-safe; no allocation. */
#ifndef BOURSE_CRC32C_H
#define BOURSE_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Extends crc (0 to start) over n bytes: crc32c(crc32c(0, a, na), b, nb) is
 * the CRC of a followed by b. */
uint32_t crc32c(uint32_t crc, const void *data, size_t n);

/* The table implementation alone, whatever the CPU (tests compare the two). */
uint32_t crc32c_portable(uint32_t crc, const void *data, size_t n);

/* 1 when crc32c() uses the CPU instruction. */
int crc32c_hw_available(void);

#endif
