/* policy: package names and architectures (see policy.h). */
#include "policy.h"

#include <string.h>

static bool lower_or_digit(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool policy_package_ok(const char *s, size_t n)
{
	if (n < 2 || !lower_or_digit(s[0]))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!lower_or_digit(s[i]) && !strchr("+.-", s[i]))
			return false;
	return true;
}

bool policy_arch_ok(const char *s, size_t n)
{
	if (!n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!lower_or_digit(s[i]) && s[i] != '-')
			return false;
	return true;
}
