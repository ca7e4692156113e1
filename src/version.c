/* The version string: PACKAGE_VERSION from configure.ac, and GIT_DESCRIBE,
 * which make writes into the generated git_version.h ("" outside git). */
#include "version.h"

#include "git_version.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

const char *version_string(void)
{
	return GIT_DESCRIBE[0] ? PACKAGE_VERSION " (git " GIT_DESCRIBE ")" : PACKAGE_VERSION;
}
