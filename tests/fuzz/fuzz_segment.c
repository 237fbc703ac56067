/* fuzz_segment.c - libFuzzer target for shm_validate(): the bytes another
 * process (or a crash) left in a segment. The input overwrites the start of a
 * valid minimal segment image; its first byte also picks a truncated length.
 * Validation must answer without reading outside the image. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "shm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t *image;
static size_t image_size;

static void make_image(void)
{
    shm_geometry_t geo = {1, SHM_RING_CAP_MIN, 1, SHM_EVLOG_CAP_MIN};
    shm_header_t h;
    memset(&h, 0, sizeof(h));
    if (shm_layout(&geo, &h, NULL) < 0)
        abort();
    image_size = h.segment_size;
    image = calloc(1, image_size);
    h.magic = SHM_MAGIC;
    h.layout_version = SHM_LAYOUT_VERSION;
    h.proto_version = PROTO_VERSION;
    h.header_size = sizeof(shm_header_t);
    memcpy(image, &h, sizeof(h));
    ring_format((ring_shm_t *)(image + h.rings_off), geo.ring_capacity, h.rec_size);
    evlog_format((evlog_shm_t *)(image + h.evlog_off), geo.evlog_capacity, h.rec_size);
    if (shm_validate(image, image_size, NULL) != 0)
        abort(); /* the starting image must be valid */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (image == NULL)
        make_image();
    /* A private copy of exactly the validated length: ASan flags any read past it. */
    size_t len = image_size;
    if (size > 0 && (data[0] & 1))
        len = (size_t)data[0] * 97 % image_size;
    uint8_t *copy = malloc(len ? len : 1);
    memcpy(copy, image, len);
    size_t n = size - (size > 0);
    memcpy(copy, data + (size > 0), n < len ? n : len);
    err_t err = {0};
    if (shm_validate(copy, len, &err) < 0 && err.msg[0] == '\0')
        abort();
    free(copy);
    return 0;
}
