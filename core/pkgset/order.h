/* order: the install order of a resolved package set, in debootstrap's
 * phases: the Essential: yes packages, then the rest of Priority: required
 * (scripts may use it without declaring so: ucf calls awk), then the rest;
 * within each phase, Pre-Depends and Depends are
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

enum order_phase { ORDER_ESSENTIAL, ORDER_REQUIRED, ORDER_REST };

/* Reorders chosen (solvable ids of pool) for installation; essential and
 * required hold the ids of the Essential: yes and of the Priority: required
 * ones; a package's phase is the earliest of those that need it, itself
 * included.  phases (chosen->count of them) receives each one's, in the
 * new order; edges (initialised by the caller) pairs (i, j) of positions:
 * package i Pre-Depends or Depends on package j of its own phase.  A pair
 * may point forward where a cycle was broken; a package appears with each
 * dependency once. */
void order_install(Pool *pool, Queue *chosen, const Map *essential, const Map *required,
                   Queue *edges, int *phases);

#endif
