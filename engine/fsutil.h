/* fsutil.h - small file-system steps the durable parts share (snapshots,
 * the journal's directory, recovery). Blocking; never on the hot path. */
#ifndef BOURSE_FSUTIL_H
#define BOURSE_FSUTIL_H

/* mkdir -p with mode 0700 for what it creates. Returns 0 or a negative errno. */
int fs_mkdir_p(const char *dir);

/* fsyncs a directory, so that a rename or a new file in it survives a crash.
 * Returns 0 or a negative errno. */
int fs_fsync_dir(const char *dir);

/* Opens (creating) path and takes an exclusive flock on it without waiting,
 * then writes our pid in it. Returns the fd (the lock lasts until it is
 * closed), -EBUSY when another process holds it (*holder gets the pid it
 * wrote, or 0), or another negative errno. */
int fs_lock(const char *path, int *holder);

#endif
