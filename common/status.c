/* status.c - names of status codes. */
#include "td_status.h"

const char *td_status_str(td_status_t status)
{
    static const char *const names[TD_STATUS_COUNT] = {
        [TD_OK] = "ok",
        [TD_DONE] = "done",
        [TD_ERR_NOT_FOUND] = "not found",
        [TD_ERR_BAD_INPUT] = "bad input",
        [TD_ERR_BAD_QUERY] = "bad query",
        [TD_ERR_RANGE] = "out of range",
        [TD_ERR_LOCKED] = "index locked",
        [TD_ERR_CORRUPT] = "index corrupt",
        [TD_ERR_MODIFIED] = "index modified",
        [TD_ERR_IO] = "I/O error",
        [TD_ERR_NO_MEMORY] = "out of memory",
        [TD_ERR_INVALID] = "invalid operation",
        [TD_ERR_INTERNAL] = "internal error",
    };
    if ((unsigned) status >= TD_STATUS_COUNT)
        return "unknown status";
    return names[status];
}
