/* The shared min-heap against a brute-force model: random pushes, removals,
 * key changes, replacements and pops, checking after each step that the top
 * is a minimum of what the model holds and that every position is right. */
#include <stdlib.h>

#include "dundid/heap.h"
#include "testutil.h"

#define N 2000

struct item {
    struct heap_node node;
    int id;
};

static struct item items[N], spare[N];
static struct item *slot[N]; /* which of items/spare stands for id, NULL: not queued */

static unsigned rnd(unsigned *x)
{
    *x = *x * 1103515245u + 12345u;
    return *x >> 8;
}

/* Small key ranges make ties common; the top must still be a minimum. */
static uint64_t key(unsigned *x, unsigned range) { return rnd(x) % range; }

static void check(const struct heap *h, const char *what)
{
    size_t queued = 0;
    uint64_t min = UINT64_MAX;
    for (int i = 0; i < N; i++)
        if (slot[i]) {
            queued++;
            if (slot[i]->node.key < min)
                min = slot[i]->node.key;
            if (!CHECK(heap_node_queued(&slot[i]->node) && h->v[slot[i]->node.pos - 1] == &slot[i]->node,
                       "%s: item %d at the position it claims", what, i))
                return;
        }
    CHECK_INT(h->n, queued);
    struct heap_node *top = heap_top(h);
    if (!queued) {
        CHECK(top == NULL, "%s: empty heap has no top", what);
        return;
    }
    CHECK(top && top->key == min, "%s: top key %llu, want minimum %llu", what,
          top ? (unsigned long long)top->key : 0ull, (unsigned long long)min);
    for (size_t i = 1; i < h->n; i++)
        if (!CHECK(h->v[(i - 1) / 2]->key <= h->v[i]->key, "%s: heap order at %zu", what, i))
            return;
}

static void model_run(unsigned seed, unsigned range)
{
    struct heap h;
    heap_init(&h);
    for (int i = 0; i < N; i++) {
        items[i] = (struct item){.id = i};
        spare[i] = (struct item){.id = i};
        slot[i] = NULL;
    }
    unsigned x = seed;
    for (int step = 0; step < 20000; step++) {
        int i = (int)(rnd(&x) % N);
        unsigned op = rnd(&x) % 10;
        const char *what = "?";
        if (!slot[i]) {
            struct item *it = rnd(&x) & 1 ? &items[i] : &spare[i];
            CHECK(!heap_node_queued(&it->node), "free item not queued");
            if (CHECK(heap_push(&h, &it->node, key(&x, range)) == 0, "push"))
                slot[i] = it;
            what = "push";
        } else if (op < 3) {
            heap_remove(&h, &slot[i]->node);
            CHECK(!heap_node_queued(&slot[i]->node), "removed item not queued");
            slot[i] = NULL;
            what = "remove";
        } else if (op < 6) {
            heap_update(&h, &slot[i]->node, key(&x, range));
            what = "update";
        } else if (op < 7) {
            struct item *old = slot[i], *fresh = old == &items[i] ? &spare[i] : &items[i];
            uint64_t k = old->node.key;
            heap_replace(&h, &old->node, &fresh->node);
            CHECK(!heap_node_queued(&old->node) && fresh->node.key == k, "replace moves key and place");
            slot[i] = fresh;
            what = "replace";
        } else {
            /* pop: the top's entry must be one the model holds */
            struct heap_node *top = heap_top(&h);
            struct item *it = heap_entry(top, struct item, node);
            if (CHECK(slot[it->id] == it, "top is a queued item")) {
                heap_remove(&h, top);
                slot[it->id] = NULL;
            }
            what = "pop";
        }
        check(&h, what);
        if (tu_failed)
            break;
    }
    /* Drain: keys come out in order. */
    uint64_t last = 0;
    struct heap_node *top;
    while ((top = heap_top(&h))) {
        CHECK(top->key >= last, "drained in order");
        last = top->key;
        slot[heap_entry(top, struct item, node)->id] = NULL;
        heap_remove(&h, top);
    }
    check(&h, "drained");
    heap_free(&h);
}

static void test_free_marks_entries(void)
{
    struct heap h;
    heap_init(&h);
    struct item a = {.id = 0}, b = {.id = 1};
    heap_push(&h, &a.node, 5);
    heap_push(&h, &b.node, 3);
    CHECK(heap_top(&h) == &b.node, "lower key on top");
    heap_free(&h);
    CHECK(!heap_node_queued(&a.node) && !heap_node_queued(&b.node), "heap_free marks entries out");
    CHECK(heap_top(&h) == NULL && h.cap == 0, "freed heap is empty");
    CHECK_INT(heap_reserve(&h, (size_t)UINT32_MAX + 1), -1);
}

static void test_signed_keys(void)
{
    int64_t v[] = {INT64_MIN, -5, -1, 0, 1, 1700000000, INT64_MAX};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        CHECK(heap_i64_key(heap_key_i64(v[i])) == v[i], "signed key round trip %zu", i);
        if (i)
            CHECK(heap_key_i64(v[i - 1]) < heap_key_i64(v[i]), "signed order kept %zu", i);
    }
}

int main(void)
{
    model_run(1, 50);      /* many ties */
    model_run(7, 1000000); /* few ties */
    model_run(42, 1);      /* all equal */
    test_free_marks_entries();
    test_signed_keys();
    return test_summary("test_heap");
}
