/* strmap.c - open-addressing hash map from strings to 32-bit values. */
#include <stdlib.h>
#include <string.h>

#include "analyzer_internal.h"

struct td_strmap_slot {
    uint64_t hash; /* 0 marks an empty slot */
    size_t key;    /* offset in map->keys */
    uint32_t key_len;
    uint32_t value;
};

/* FNV-1a; the top bit is forced so no real hash is 0. */
static uint64_t hash_bytes(const char *key, size_t len)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char) key[i];
        h *= 1099511628211ull;
    }
    return h | (1ull << 63);
}

void td_strmap_init(td_strmap_t *map)
{
    memset(map, 0, sizeof(*map));
}

void td_strmap_free(td_strmap_t *map)
{
    free(map->slots);
    free(map->keys);
    td_strmap_init(map);
}

void td_strmap_clear(td_strmap_t *map)
{
    if (map->slots)
        memset(map->slots, 0, map->capacity * sizeof(*map->slots));
    map->count = 0;
    map->keys_len = 0;
}

static struct td_strmap_slot *find_slot(const td_strmap_t *map, const char *key, size_t len,
                                        uint64_t hash)
{
    size_t mask = map->capacity - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
        struct td_strmap_slot *slot = &map->slots[i];
        if (slot->hash == 0)
            return slot;
        if (slot->hash == hash && slot->key_len == len &&
            memcmp(map->keys + slot->key, key, len) == 0)
            return slot;
    }
}

static td_status_t grow(td_strmap_t *map)
{
    size_t capacity = map->capacity ? map->capacity * 2 : 64;
    struct td_strmap_slot *slots = calloc(capacity, sizeof(*slots));
    if (!slots)
        return TD_ERR_NO_MEMORY;
    struct td_strmap_slot *old = map->slots;
    size_t old_capacity = map->capacity;
    map->slots = slots;
    map->capacity = capacity;
    for (size_t i = 0; i < old_capacity; i++)
        if (old[i].hash) {
            size_t mask = capacity - 1;
            size_t j = old[i].hash & mask;
            while (slots[j].hash)
                j = (j + 1) & mask;
            slots[j] = old[i];
        }
    free(old);
    return TD_OK;
}

/* The slot of `key`, inserted with value 0 when new; NULL when out of
 * memory. */
static struct td_strmap_slot *upsert(td_strmap_t *map, const char *key, size_t len)
{
    if (len > UINT32_MAX)
        return NULL;
    if ((map->count + 1) * 4 > map->capacity * 3 && grow(map) != TD_OK)
        return NULL;
    uint64_t hash = hash_bytes(key, len);
    struct td_strmap_slot *slot = find_slot(map, key, len, hash);
    if (slot->hash)
        return slot;
    if (map->keys_len + len + 1 > map->keys_capacity) {
        size_t capacity = map->keys_capacity ? map->keys_capacity * 2 : 4096;
        while (capacity < map->keys_len + len + 1)
            capacity *= 2;
        char *keys = realloc(map->keys, capacity);
        if (!keys)
            return NULL;
        map->keys = keys;
        map->keys_capacity = capacity;
    }
    memcpy(map->keys + map->keys_len, key, len);
    map->keys[map->keys_len + len] = '\0';
    *slot = (struct td_strmap_slot){.hash = hash, .key = map->keys_len, .key_len = (uint32_t) len};
    map->keys_len += len + 1;
    map->count++;
    return slot;
}

td_status_t td_strmap_put(td_strmap_t *map, const char *key, size_t len, uint32_t value)
{
    struct td_strmap_slot *slot = upsert(map, key, len);
    if (!slot)
        return TD_ERR_NO_MEMORY;
    slot->value = value;
    return TD_OK;
}

td_status_t td_strmap_add(td_strmap_t *map, const char *key, size_t len, uint32_t n)
{
    struct td_strmap_slot *slot = upsert(map, key, len);
    if (!slot)
        return TD_ERR_NO_MEMORY;
    slot->value += n;
    return TD_OK;
}

bool td_strmap_next(const td_strmap_t *map, size_t *cursor, const char **key, uint32_t *value)
{
    for (; *cursor < map->capacity; ++*cursor) {
        const struct td_strmap_slot *slot = &map->slots[*cursor];
        if (slot->hash) {
            *key = map->keys + slot->key;
            *value = slot->value;
            ++*cursor;
            return true;
        }
    }
    return false;
}

bool td_strmap_get(const td_strmap_t *map, const char *key, size_t len, uint32_t *value)
{
    if (!map->count)
        return false;
    const struct td_strmap_slot *slot = find_slot(map, key, len, hash_bytes(key, len));
    if (!slot->hash)
        return false;
    *value = slot->value;
    return true;
}
