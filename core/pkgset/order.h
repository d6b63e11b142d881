/* order: the install order of a resolved package set.  Essential packages
 * come first, then the rest; within each group, Pre-Depends and Depends are
 * installed before their dependants wherever no cycle prevents it, and a
 * cycle is broken where Pre-Depends allow.  libsolv's own transaction order
 * puts essential packages late and breaks cycles regardless of Pre-Depends,
 * which preinst scripts cannot run with.  Works on solvable ids; allocates
 * nothing that outlives the call. */
#ifndef XB_ORDER_H
#define XB_ORDER_H

#include <solv/bitmap.h>
#include <solv/pool.h>
#include <solv/queue.h>

/* Reorders chosen (solvable ids of pool) for installation; essential holds
 * the ids of the essential ones.  edges (initialised by the caller) receives
 * pairs (i, j) of positions in the new order: package i Pre-Depends or
 * Depends on package j of its own group.  A pair may point forward where a
 * cycle was broken; a package appears with each dependency once. */
void order_install(Pool *pool, Queue *chosen, const Map *essential, Queue *edges);

#endif
