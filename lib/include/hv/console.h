/*
 * Console client (protocol in <hv/startinfo.h>). Output is collected per
 * thread and sent at line ends, so each IPC carries whole lines when
 * possible; a partial line is sent when the buffer is full, by
 * cons_flush() and before cons_read(); hv_exit() ends an open line. If the
 * console portal is missing or a call fails, output is dropped silently.
 */
#ifndef HV_CONSOLE_H
#define HV_CONSOLE_H

#include <stddef.h>
#include <hv/abi.h>

/* Portal used by this library; HV_SI_SEL_CONSOLE unless changed (the
 * roottask, which has no start info, sets its own). */
void cons_set_portal(hv_sel_t pt);

/* Queue n bytes; sends every complete line. Returns n. */
size_t cons_write(const char *buf, size_t n);
/* Send whatever is queued, complete line or not. */
void cons_flush(void);
/* Send what is queued and end the line if one is open (used by hv_exit:
 * the console shows a partial line only once it is complete). */
void cons_end(void);
/* Non-blocking: up to max bytes of input; 0 if none (or no console). */
size_t cons_read(char *buf, size_t max);

#endif
