/* version.h — the harness version; the git revision comes from the build. */
#ifndef SLM_VERSION_H
#define SLM_VERSION_H

#define SLM_VERSION "0.1.0"
#ifndef SLM_GIT_REV
#define SLM_GIT_REV "unknown"
#endif

#endif
