/* output: turns a finished root file system directory into what the user
 * asked for — the directory itself, a tarball (plain, gzip, xz, zstd,
 * bzip2, lz4, lzma) or cpio archive, a squashfs or an ext4 image, or
 * nothing — with the same bytes on every run.
 *
 * Tarballs are written here with libarchive, walking the tree in a fixed
 * order: pax format, numeric owners only, no atime/ctime, whole-second
 * mtimes, hard links as links, security.capability kept, setuid/setgid
 * kept; the tree's device nodes, FIFOs and sockets left out, /dev's own
 * (dev_nodes) written from the table.  Images are made by mksquashfs
 * (squashfs-tools) and mke2fs (e2fsprogs), which take owners from the tree
 * as the calling process sees it; with an epoch, squashfs gets it as every
 * file's time, ext4 gets every time clamped to it (mtimes in the tree, which
 * is the run's own copy; ctimes and atimes by debugfs) and a UUID derived
 * from it.  The tree's device nodes are left out of images too, by
 * mksquashfs -ef and by debugfs after mke2fs -d, and /dev's added as pseudo
 * files or by debugfs.  Disk images (core/output/disk) hold such an ext4 (or
 * a btrfs) beside an EFI system partition. */
#ifndef XB_OUTPUT_H
#define XB_OUTPUT_H

#include <sys/types.h>

#include "../base/util.h"

enum output_format {
	OUTPUT_DIR,
	OUTPUT_TAR,
	OUTPUT_TAR_GZ,
	OUTPUT_TAR_XZ,
	OUTPUT_TAR_ZST,
	OUTPUT_TAR_BZ2,
	OUTPUT_TAR_LZ4,
	OUTPUT_TAR_LZMA,
	OUTPUT_CPIO,     /* newc: no extended attributes, hence no file capabilities */
	OUTPUT_SQUASHFS,
	OUTPUT_EXT4,
	OUTPUT_NULL,     /* the tree is built, and nothing kept */
	OUTPUT_OCI,      /* an OCI image layout directory (core/output/oci) */
	OUTPUT_OCI_TAR,  /* and its tar */
	OUTPUT_DISK,     /* a raw GPT disk: an EFI system partition and the root (core/output/disk) */
};

/* What an OCI image says of itself. */
struct output_oci {
	const char *deb_arch;         /* its platform, from the Debian architecture */
	const char *ref;              /* org.opencontainers.image.ref.name */
	const char *descriptor;       /* NULL, or a file that gets the manifest's
	                                 descriptor (JSON, with its platform) */
};

/* What a disk holds besides the tree (core/pipeline/machine decides it). */
struct output_disk {
	const char *esp_dir;          /* the EFI system partition's files, on the host */
	uint64_t esp_bytes;           /* its size */
	uint64_t bytes;               /* the whole disk's; 0: from the tree */
	const char *root_fs;          /* "ext4" or "btrfs" */
	const char *root_type;        /* the root partition's GPT type (discoverable partitions) */
	const char *disk_guid, *esp_guid, *root_guid; /* GPT's identifiers */
	const char *root_uuid;        /* the root file system's UUID */
	const char *esp_serial;       /* the ESP's FAT volume id: 8 hex digits */
	bool esp_legacy_boot;         /* the ESP marked LegacyBIOSBootable: U-Boot's distro
	                                 boot looks there for extlinux/extlinux.conf */
};

struct output_opts {
	/* -1: mtimes are kept; else every mtime above it is clamped to it,
	 * and images get it as their creation time. */
	long long source_date_epoch;
	/* Called for every tarball member with the owner found on disk; may
	 * change it (a user-namespace run writes the owners the files have
	 * inside the namespace).  Returns 0 or a negative code, having
	 * reported the error.  NULL: owners as on disk.  Images cannot map
	 * owners: output_write() refuses them with a map_owner. */
	int (*map_owner)(void *ctx, uid_t *uid, gid_t *gid);
	void *ctx;
	/* The archive gets /dev's device nodes (core/base/devfiles), root's,
	 * with its directory's time, whatever the tree holds there: a tree
	 * made in a user namespace cannot hold them. */
	bool dev_nodes;
	const struct output_oci *oci; /* for OUTPUT_OCI and OUTPUT_OCI_TAR */
	const struct output_disk *disk; /* for OUTPUT_DISK */
	/* NULL, or 65 bytes that get the SHA256 (hex) of a tar or cpio
	 * written to a file, hashed on its way there. */
	char *sha256;
};
#define OUTPUT_OPTS_INIT { -1, NULL, NULL, false, NULL, NULL, NULL }

/* Parses a --format= value ("directory", "tar", "tar.gz", "tar.xz",
 * "tar.zst", "tar.bz2", "tar.lz4", "tar.lzma", "cpio", "squashfs", "ext4",
 * "null", "oci", "oci.tar"); reports and returns -XB_EUSAGE for anything else. */
int output_format_parse(const char *name, enum output_format *f);
/* The --format= spelling of f (static string). */
const char *output_format_name(enum output_format f);
/* The i-th format's --format name, from 0 on; NULL past the last. */
const char *output_format_nth(size_t i);
/* Whether f is a file made from the tree (neither directory nor null). */
bool output_format_is_archive(enum output_format f);
/* Whether f is a tar (of any compression) or cpio, which a pipe can take. */
bool output_format_is_stream(enum output_format f);
/* The format from a target's name: "-" is a tar on stdout, /dev/null is
 * null; *.tar, *.tar.gz|*.tgz, *.tar.xz|*.txz, *.tar.zst|*.tzst,
 * *.tar.bz2|*.tbz2|*.tbz, *.tar.lz4, *.tar.lzma|*.tlz, *.cpio,
 * *.squashfs|*.sqfs, *.ext4, *.oci, *.oci.tar; another archive's or compressor's ending is
 * refused (reported, -XB_EUSAGE); anything else a directory. */
int output_format_of_target(const char *target, enum output_format *f);

/* Writes the tree at rootdir to target in format f; o may be NULL
 * (defaults).  target "-" is stdout (tar formats only).  A file target is
 * written under a temporary name in target's directory and renamed over
 * target at the end, so target is either complete or untouched and
 * nothing is left behind on failure.  OUTPUT_DIR writes nothing: target
 * must be rootdir itself.  Errors are reported once; returns 0 or a
 * negative code (-ENOENT with the package to install when mksquashfs or
 * mke2fs is missing). */
int output_write(const char *rootdir, const char *target, enum output_format f,
                 const struct output_opts *o);

#endif
