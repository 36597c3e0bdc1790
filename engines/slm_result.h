/*
 * slm_result.h — to retire: use slm_plugin.h, which now holds slm_result_free_plain()
 * with the other helpers a plugin needs. Kept so plugins that include it still build.
 */
#ifndef SLM_RESULT_H
#define SLM_RESULT_H

#include "slm_plugin.h"

#endif
