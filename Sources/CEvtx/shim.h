#ifndef INCIDENT_CEVTX_SHIM_H
#define INCIDENT_CEVTX_SHIM_H
/* libevtx (Debian libevtx-dev; its header includes libbfio.h, so libbfio-dev too).
   Small helpers so Swift sees plain calls: handles in, malloc'd UTF-8 out, errors as text. */
#include <stdlib.h>
#include <string.h>
#include <libevtx.h>

/* Copies libevtx's error text into buf (always NUL-terminated) and frees the error. */
static inline void inc_evtx_take_error(libevtx_error_t **error, char *buf, size_t len) {
    if (len == 0) return;
    buf[0] = 0;
    if (error != NULL && *error != NULL) {
        libevtx_error_sprint(*error, buf, len);
        buf[len - 1] = 0;
        libevtx_error_free(error);
    }
}

/* Opens an EVTX file read-only. NULL on failure, with the reason in err. */
static inline libevtx_file_t *inc_evtx_open(const char *path, char *err, size_t errlen) {
    libevtx_file_t *file = NULL;
    libevtx_error_t *error = NULL;
    if (libevtx_file_initialize(&file, &error) != 1) {
        inc_evtx_take_error(&error, err, errlen);
        return NULL;
    }
    if (libevtx_file_open(file, path, LIBEVTX_ACCESS_FLAG_READ, &error) != 1) {
        inc_evtx_take_error(&error, err, errlen);
        libevtx_file_free(&file, NULL);
        return NULL;
    }
    return file;
}

static inline void inc_evtx_close(libevtx_file_t *file) {
    if (file == NULL) return;
    libevtx_file_close(file, NULL);
    libevtx_file_free(&file, NULL);
}

/* Number of records (recovered = 0) or of records carved from free space (recovered = 1); -1 on error. */
static inline int inc_evtx_count(libevtx_file_t *file, int recovered) {
    int n = 0;
    int ok = recovered ? libevtx_file_get_number_of_recovered_records(file, &n, NULL)
                       : libevtx_file_get_number_of_records(file, &n, NULL);
    return ok == 1 ? n : -1;
}

/* 1 when the file header says the log was not closed cleanly (dirty) or it is corrupted. */
static inline int inc_evtx_is_damaged(libevtx_file_t *file) {
    uint32_t flags = 0;
    int corrupted = libevtx_file_is_corrupted(file, NULL);
    if (corrupted == 1) return 1;
    if (libevtx_file_get_flags(file, &flags, NULL) == 1 && (flags & LIBEVTX_FILE_FLAG_IS_DIRTY)) return 1;
    return 0;
}

/* The record's event as UTF-8 XML (malloc'd, free with free()), or NULL with the reason in err. */
static inline char *inc_evtx_record_xml(libevtx_file_t *file, int index, int recovered, char *err, size_t errlen) {
    libevtx_record_t *record = NULL;
    libevtx_error_t *error = NULL;
    int ok = recovered ? libevtx_file_get_recovered_record_by_index(file, index, &record, &error)
                       : libevtx_file_get_record_by_index(file, index, &record, &error);
    if (ok != 1) {
        inc_evtx_take_error(&error, err, errlen);
        return NULL;
    }
    size_t size = 0;
    char *xml = NULL;
    if (libevtx_record_get_utf8_xml_string_size(record, &size, &error) != 1 || size == 0 || size > (64u << 20)) {
        inc_evtx_take_error(&error, err, errlen);
        if (err[0] == 0 && errlen > 0) strncpy(err, "no XML for this record", errlen - 1);
        libevtx_record_free(&record, NULL);
        return NULL;
    }
    xml = (char *)malloc(size + 1);
    if (xml == NULL) {
        libevtx_record_free(&record, NULL);
        return NULL;
    }
    if (libevtx_record_get_utf8_xml_string(record, (uint8_t *)xml, size, &error) != 1) {
        inc_evtx_take_error(&error, err, errlen);
        free(xml);
        libevtx_record_free(&record, NULL);
        return NULL;
    }
    xml[size] = 0;
    libevtx_record_free(&record, NULL);
    return xml;
}
#endif
