/* The version --version prints: configure.ac's, plus `git describe` when the
 * tree was built from a git checkout (a release tarball has no .git). */
#ifndef SPOA_MIRROR_VERSION_H
#define SPOA_MIRROR_VERSION_H

/* "0.1.0" or "0.1.0 (git 0.1.0-3-gc906ca3-dirty)"; a static string. */
const char *version_string(void);

#endif
