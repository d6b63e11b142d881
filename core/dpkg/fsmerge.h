/* fsmerge: moving a directory's contents into another directory, as if
 * they had been written there: debfile.c uses it when packages unpacked
 * concurrently laid out a directory where another ships a symlink. */
#ifndef XB_FSMERGE_H
#define XB_FSMERGE_H

#include "../base/util.h"

/* Moves everything in the directory fd from into the directory fd to and
 * closes from.  What to holds already is replaced, as a later write would
 * have replaced it, but directories, which are merged.  deb and path are
 * for the one error reported (a directory meeting a file). */
int fsmerge_into(int from, int to, const char *deb, const char *path);

#endif
