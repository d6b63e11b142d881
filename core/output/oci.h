/* oci: the tree as an OCI image (image-spec v1.0): one layer, the tree as
 * a gzip tar by output.h's rules (numeric owners, sorted, capabilities and
 * setuid kept, mtimes clamped to the epoch); its config (platform, Env
 * PATH, Cmd, created, the layer's diff_id), manifest and an index naming
 * it by org.opencontainers.image.ref.name; as an image layout directory
 * (OUTPUT_OCI) or that directory's tar (OUTPUT_OCI_TAR, what
 * oci-archive: and podman load read).  With an epoch, the same tree gives
 * the same digests. */
#ifndef XB_OCI_H
#define XB_OCI_H

#include "output.h"

/* The image-spec's platform of a Debian architecture ("armhf": "arm" and
 * "v7"); *variant may be NULL.  False for one it has no name for. */
bool oci_platform(const char *deb_arch, const char **arch, const char **variant);

/* Writes the image of rootdir to target (replacing an image layout
 * directory there); o->oci says what the image says of itself.  Errors
 * are reported. */
int oci_write(const char *rootdir, const char *target, enum output_format f,
              const struct output_opts *o);

/* Several single-platform image layouts (as oci_write() makes them, each
 * with its manifest's descriptor in a file, output_oci.descriptor) as one
 * image of those platforms: their blobs side by side, an image index
 * listing the descriptors, and index.json naming that by ref; written to
 * target as f (OUTPUT_OCI or OUTPUT_OCI_TAR).  The layouts' blobs are
 * moved, not copied.  Errors are reported. */
int oci_merge(char *const *layouts, char *const *descriptors, size_t n, const char *ref,
              const char *target, enum output_format f, long long source_date_epoch);

#endif
