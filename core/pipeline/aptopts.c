/* aptopts: the --aptopt settings xboot honours itself (see aptopts.h). */
#include "aptopts.h"

#include <ctype.h>
#include <errno.h>
#include <strings.h>

/* value as a count, or else when it is none (apt would refuse it later). */
static long number(const char *value, long other)
{
	char *end;
	errno = 0;
	long n = strtol(value, &end, 10);
	return *value && !*end && !errno && n >= 0 && n <= 1000000 ? n : other;
}

/* One name and its value, scopes joined with "::". */
static void setting(struct aptopts *a, const char *name, const char *value)
{
	bool yes = !strcasecmp(value, "true") || !strcasecmp(value, "yes") || !strcmp(value, "1");
	if (!strcasecmp(name, "Acquire::http::Proxy")) {
		free(a->http_proxy);
		a->http_proxy = xstrdup(value);
	} else if (!strcasecmp(name, "Acquire::Check-Valid-Until")) {
		a->no_valid_until = !yes;
	} else if (!strcasecmp(name, "APT::Install-Recommends")) {
		a->recommends = yes;
	} else if (!strcasecmp(name, "Acquire::Retries")) {
		a->retries = number(value, a->retries);
	} else if (!strcasecmp(name, "Acquire::Retries::Delay")) {
		a->no_retry_delay = !yes;
	} else if (!strcasecmp(name, "Acquire::Retries::Delay::Maximum")) {
		a->retry_delay_max = number(value, a->retry_delay_max);
	}
}

/* The next token of s at *i: a word, a "string", or one of { } ; (caller
 * frees); NULL at the end.  Comments (//, #) run to the end of the line. */
static char *token(const char *s, size_t *i)
{
	for (;;) {
		while (s[*i] && isspace((unsigned char)s[*i]))
			(*i)++;
		if (s[*i] == '#' || (s[*i] == '/' && s[*i + 1] == '/'))
			*i += strcspn(s + *i, "\n");
		else
			break;
	}
	size_t start = *i;
	if (!s[*i])
		return NULL;
	if (strchr("{};", s[*i]))
		return xstrndup(s + (*i)++, 1);
	if (s[*i] == '"') {
		size_t n = strcspn(s + start + 1, "\"");
		*i = start + 1 + n + (s[start + 1 + n] == '"');
		return xasprintf("\"%.*s", (int)n, s + start + 1);
	}
	while (s[*i] && !isspace((unsigned char)s[*i]) && !strchr("{};\"", s[*i]))
		(*i)++;
	return xstrndup(s + start, *i - start);
}

static void parse(const char *text, struct aptopts *a)
{
	cleanup_strvec struct strvec scope = STRVEC_INIT;
	cleanup_free char *name = NULL;
	size_t i = 0;
	for (char *t; (t = token(text, &i)); free(t)) {
		if (t[0] == '{' && name) {
			strvec_push(&scope, name);
			free(xb_steal(&name));
		} else if (t[0] == '}' && scope.n) {
			free(scope.v[--scope.n]);
			scope.v[scope.n] = NULL;
		} else if (t[0] == '"' && name) {
			cleanup_strbuf struct strbuf full = STRBUF_INIT;
			for (size_t k = 0; k < scope.n; k++)
				strbuf_addf(&full, "%s::", scope.v[k]);
			strbuf_addstr(&full, name);
			setting(a, full.buf, t + 1);
			free(xb_steal(&name));
		} else if (t[0] == ';') {
			free(xb_steal(&name));
		} else if (t[0] != '"' && !strchr("{}", t[0])) {
			free(name);
			name = xstrdup(t);
		}
	}
}

void aptopts_read(const struct strvec *opts, struct aptopts *out)
{
	*out = (struct aptopts){ .retries = -1, .retry_delay_max = -1 };
	for (size_t i = 0; i < opts->n; i++) {
		cleanup_strbuf struct strbuf text = STRBUF_INIT;
		parse(xb_read_file(opts->v[i], &text) == 0 ? text.buf : opts->v[i], out);
	}
}

void aptopts_release(struct aptopts *a)
{
	free(a->http_proxy);
	a->http_proxy = NULL;
}
