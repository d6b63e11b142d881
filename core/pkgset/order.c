/* order: install ordering by strongly connected components.  See order.h. */
#include <solv/pool.h>
#include <solv/solvable.h>

#include "order.h"
#include "../base/util.h"

/* The install order.  Nodes are the chosen solvables sorted by name; edges
 * go from a package to the chosen providers of its Pre-Depends (pre) and
 * Depends (dep), within its phase (order.h).  Tarjan's algorithm
 * emits strongly connected components dependencies first; inside a cycle,
 * packages whose Pre-Depends are all emitted go first, preferring those
 * whose Depends are too. */
struct node {
	Id p;
	int phase;
	Queue pre, dep;
	int index, low;
	bool on_stack, emitted;
};

struct order {
	struct node *n;
	int count, next_index;
	Queue stack, out;
};

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

static void sort_uniq(Queue *q)
{
	int k = 0;
	if (q->count < 2)
		return;
	qsort(q->elements, (size_t)q->count, sizeof(Id), cmp_int);
	for (int i = 0; i < q->count; i++)
		if (!k || q->elements[k - 1] != q->elements[i])
			q->elements[k++] = q->elements[i];
	queue_truncate(q, k);
}

static bool deps_emitted(const struct order *o, const Queue *q)
{
	for (int i = 0; i < q->count; i++)
		if (!o->n[q->elements[i]].emitted)
			return false;
	return true;
}

static void emit(struct order *o, int v)
{
	o->n[v].emitted = true;
	queue_push(&o->out, v);
}

/* Orders the members of one cycle, given sorted in members. */
static void emit_cycle(struct order *o, const Queue *members)
{
	for (int left = members->count; left > 0; left--) {
		int pick = -1, fallback = -1, any = -1;
		for (int i = 0; i < members->count && pick < 0; i++) {
			struct node *nd = &o->n[members->elements[i]];
			if (nd->emitted)
				continue;
			if (any < 0)
				any = members->elements[i];
			if (deps_emitted(o, &nd->pre)) {
				if (fallback < 0)
					fallback = members->elements[i];
				if (deps_emitted(o, &nd->dep))
					pick = members->elements[i];
			}
		}
		emit(o, pick >= 0 ? pick : fallback >= 0 ? fallback : any);
	}
}

static void tarjan(struct order *o, int v)
{
	struct node *nd = &o->n[v];
	nd->index = nd->low = ++o->next_index;
	queue_push(&o->stack, v);
	nd->on_stack = true;
	for (int pass = 0; pass < 2; pass++) {
		const Queue *edges = pass ? &nd->dep : &nd->pre;
		for (int i = 0; i < edges->count; i++) {
			int w = edges->elements[i];
			if (!o->n[w].index) {
				tarjan(o, w);
				if (o->n[w].low < nd->low)
					nd->low = o->n[w].low;
			} else if (o->n[w].on_stack && o->n[w].index < nd->low) {
				nd->low = o->n[w].index;
			}
		}
	}
	if (nd->low != nd->index)
		return;
	Queue members;
	queue_init(&members);
	int w;
	do {
		w = queue_pop(&o->stack);
		o->n[w].on_stack = false;
		queue_push(&members, w);
	} while (w != v);
	if (members.count == 1) {
		emit(o, v);
	} else {
		sort_uniq(&members);
		emit_cycle(o, &members);
	}
	queue_free(&members);
}

/* Adds to q the nodes providing the dependencies of s in phase (any when
 * phase < 0).
 * libsolv keeps Depends before SOLVABLE_PREREQMARKER and Pre-Depends after
 * it: marker SOLVABLE_PREREQMARKER selects Pre-Depends, its negation
 * Depends. */
static void add_edges(Pool *pool, const struct order *o, const int *node_of,
		      Solvable *s, Id marker, int phase, Queue *q)
{
	Queue deps;
	queue_init(&deps);
	solvable_lookup_deparray(s, SOLVABLE_REQUIRES, &deps, marker);
	for (int i = 0; i < deps.count; i++) {
		Id p, pp;
		FOR_PROVIDES(p, pp, deps.elements[i]) {
			int w = node_of[p];
			if (w >= 0 && pool->solvables + o->n[w].p != s &&
			    (phase < 0 || o->n[w].phase == phase))
				queue_push(q, w);
		}
	}
	queue_free(&deps);
	sort_uniq(q);
}

/* A package goes in the phase of the earliest package that needs it, as
 * debootstrap's required set is the required packages with their
 * dependencies: its postinst must have run by then. */
static void settle_phases(Pool *pool, struct order *o, const int *node_of)
{
	Queue *all = xcalloc((size_t)o->count + 1, sizeof(*all));
	for (int i = 0; i < o->count; i++) {
		queue_init(&all[i]);
		add_edges(pool, o, node_of, pool->solvables + o->n[i].p, 0, -1, &all[i]);
	}
	for (bool changed = true; changed;) {
		changed = false;
		for (int i = 0; i < o->count; i++) {
			for (int k = 0; k < all[i].count; k++) {
				struct node *w = &o->n[all[i].elements[k]];
				if (w->phase > o->n[i].phase) {
					w->phase = o->n[i].phase;
					changed = true;
				}
			}
		}
	}
	for (int i = 0; i < o->count; i++)
		queue_free(&all[i]);
	free(all);
}

static int cmp_by_name(const void *a, const void *b, void *pool_)
{
	Pool *pool = pool_;
	const Solvable *x = pool->solvables + *(const Id *)a;
	const Solvable *y = pool->solvables + *(const Id *)b;
	int r = strcmp(pool_id2str(pool, x->name), pool_id2str(pool, y->name));
	return r ? r : strcmp(pool_id2str(pool, x->arch), pool_id2str(pool, y->arch));
}

void order_install(Pool *pool, Queue *chosen, const Map *essential, const Map *required,
                   Queue *edges, int *phases)
{
	struct order o = { .count = chosen->count };
	int *node_of = xmalloc(pool->nsolvables * sizeof(*node_of));

	if (chosen->count > 1) /* elements may be NULL when empty */
		qsort_r(chosen->elements, (size_t)chosen->count, sizeof(Id), cmp_by_name, pool);
	for (int i = 0; i < pool->nsolvables; i++)
		node_of[i] = -1;
	o.n = xcalloc((size_t)o.count + 1, sizeof(*o.n));
	for (int i = 0; i < o.count; i++) {
		o.n[i].p = chosen->elements[i];
		o.n[i].phase = MAPTST(essential, o.n[i].p) ? ORDER_ESSENTIAL
		               : MAPTST(required, o.n[i].p) ? ORDER_REQUIRED : ORDER_REST;
		node_of[o.n[i].p] = i;
		queue_init(&o.n[i].pre);
		queue_init(&o.n[i].dep);
	}
	settle_phases(pool, &o, node_of);
	for (int i = 0; i < o.count; i++) {
		Solvable *s = pool->solvables + o.n[i].p;
		add_edges(pool, &o, node_of, s, SOLVABLE_PREREQMARKER, o.n[i].phase, &o.n[i].pre);
		add_edges(pool, &o, node_of, s, -SOLVABLE_PREREQMARKER, o.n[i].phase, &o.n[i].dep);
	}
	queue_init(&o.stack);
	queue_init(&o.out);
	for (int phase = ORDER_ESSENTIAL; phase <= ORDER_REST; phase++)
		for (int i = 0; i < o.count; i++)
			if (o.n[i].phase == phase && !o.n[i].index)
				tarjan(&o, i);
	int *pos = xmalloc(((size_t)o.count + 1) * sizeof(*pos));
	for (int i = 0; i < o.count; i++)
		pos[o.out.elements[i]] = i;
	queue_empty(edges);
	for (int i = 0; i < o.count; i++) {
		const struct node *nd = &o.n[o.out.elements[i]];
		for (int pass = 0; pass < 2; pass++) {
			const Queue *q = pass ? &nd->dep : &nd->pre;
			for (int k = 0; k < q->count; k++)
				queue_push2(edges, i, pos[q->elements[k]]);
		}
	}
	free(pos);
	for (int i = 0; i < o.count; i++) {
		chosen->elements[i] = o.n[o.out.elements[i]].p;
		phases[i] = o.n[o.out.elements[i]].phase;
		queue_free(&o.n[i].pre);
		queue_free(&o.n[i].dep);
	}
	queue_free(&o.stack);
	queue_free(&o.out);
	free(o.n);
	free(node_of);
}
