/*
 * Net::ZooKeeper: the Perl face of the Rust core (see rust/ffi/).
 *
 * This file converts Perl values to the core's C ABI and back, and keeps the
 * original's object model: every object is a reference to an outer hash tied to an
 * inner, blessed hash that carries the core's pointer in ext magic. Validation,
 * messages and all state live in the core.
 */
#define PERL_NO_GET_CONTEXT
#include "EXTERN.h"
#include "perl.h"
#include "XSUB.h"

#include <errno.h>
#include "nzk.h"

/* The core object behind an inner hash is freed when its magic goes: on DESTROY
 * (sv_unmagicext) or when Perl frees the hash. That is its only free path. */
static int free_handle(pTHX_ SV *sv, MAGIC *mg) { nzk_handle_free((NzkHandle *) mg->mg_ptr); return 0; }
static int free_stat(pTHX_ SV *sv, MAGIC *mg) { nzk_stat_free((NzkStat *) mg->mg_ptr); return 0; }
static int free_watch(pTHX_ SV *sv, MAGIC *mg) { nzk_watch_free((NzkWatch *) mg->mg_ptr); return 0; }

static int free_lease(pTHX_ SV *sv, MAGIC *mg) { nzk_lease_free((NzkLease *) mg->mg_ptr); return 0; }

/* Net::ZooKeeper::Cluster::Connection objects: a blessed scalar whose magic holds
 * the lease, so a forged or copied object has none. */
static MGVTBL lease_vtbl = { NULL, NULL, NULL, NULL, free_lease, NULL, NULL, NULL };

/* Net::ZooKeeper::PersistentWatch objects: the same, with the watch. */
static int free_persistent(pTHX_ SV *sv, MAGIC *mg) { nzk_persistent_free((NzkPersistentWatch *) mg->mg_ptr); return 0; }
static MGVTBL persistent_vtbl = { NULL, NULL, NULL, NULL, free_persistent, NULL, NULL, NULL };

static MGVTBL vtbls[] = {
    { NULL, NULL, NULL, NULL, free_handle, NULL, NULL, NULL },
    { NULL, NULL, NULL, NULL, free_stat, NULL, NULL, NULL },
    { NULL, NULL, NULL, NULL, free_watch, NULL, NULL, NULL },
};

#define croak_text(msg) croak("%s", (msg))

/* Checks on what the core returns: each croaks "internal error in the
 * Net::ZooKeeper core" for the result a panic in the core gives. */
static void
croak_panic(pTHX)
{
    croak_text(nzk_message(NZK_MESSAGE_PANIC, NZK_CLASS_HANDLE));
}

/* A result code (ZooKeeper code, errno, APR status). */
static int32_t
core_code(pTHX_ int32_t code)
{
    if (code == NZK_RESULT_PANIC)
        croak_panic(aTHX);
    return code;
}

/* A text that is never NULL (a fixed message, zerror). */
static const char *
core_text(pTHX_ NzkText text)
{
    if (!text)
        croak_panic(aTHX);
    return text;
}

/* A new object or reference. */
static void *
core_ptr(pTHX_ void *ptr)
{
    if (!ptr)
        croak_panic(aTHX);
    return ptr;
}

/* A croak message, or NULL when all is well. */
static void
core_check(pTHX_ const char *msg)
{
    if (msg)
        croak_text(msg);
}

static const char *
class_name(pTHX_ NzkClass cls)
{
    return core_text(aTHX_ nzk_class_name(cls));
}

static void
croak_message(pTHX_ NzkMessage which, NzkClass cls)
{
    croak_text(core_text(aTHX_ nzk_message(which, cls)));
}

static void
warn_message(pTHX_ NzkText text)
{
    warn("%s", core_text(aTHX_ text));
}

/* A reference to a hash blessed into the class (or a subclass). */
static int
is_object(pTHX_ SV *sv, NzkClass cls)
{
    const char *name;
    HV *stash;
    if (!SvROK(sv) || SvTYPE(SvRV(sv)) != SVt_PVHV)
        return 0;
    name = class_name(aTHX_ cls);
    /* Blessed into the class itself, the common case: no walk of @ISA. */
    stash = SvOBJECT(SvRV(sv)) ? SvSTASH(SvRV(sv)) : NULL;
    if (stash && HvNAME_get(stash) && strEQ(HvNAME_get(stash), name))
        return 1;
    return sv_derived_from(sv, name);
}

static void
check_object(pTHX_ SV *sv, const char *var, NzkClass cls)
{
    if (!is_object(aTHX_ sv, cls))
        croak_text(core_text(aTHX_ nzk_message_not_object((const uint8_t *) var, strlen(var), cls)));
}

/* Our magic on sv, or NULL (only SVs of PVMG type and above can carry magic). */
static MAGIC *
our_magic(pTHX_ SV *sv, MGVTBL *vtbl)
{
    return SvTYPE(sv) >= SVt_PVMG ? mg_findext(sv, PERL_MAGIC_ext, vtbl) : NULL;
}

/* The core pointer of an inner hash, or NULL. */
static void *
inner_ptr(pTHX_ SV *hv, NzkClass cls)
{
    MAGIC *mg = our_magic(aTHX_ hv, &vtbls[cls]);
    return mg ? (void *) mg->mg_ptr : NULL;
}

/* The inner hash an outer hash is tied to, or NULL. */
static SV *
tied_inner(pTHX_ SV *hv)
{
    MAGIC *mg = SvRMAGICAL(hv) ? mg_find(hv, PERL_MAGIC_tied) : NULL;
    if (mg && mg->mg_obj && SvROK(mg->mg_obj) && SvTYPE(SvRV(mg->mg_obj)) == SVt_PVHV)
        return SvRV(mg->mg_obj);
    return NULL;
}

/* The core pointer behind an object reference (outer hash), or NULL. */
static void *
outer_ptr(pTHX_ SV *ref, NzkClass cls)
{
    SV *inner = tied_inner(aTHX_ SvRV(ref));
    return inner ? inner_ptr(aTHX_ inner, cls) : NULL;
}

static SV *
make_object(pTHX_ void *ptr, NzkClass cls, const char *package)
{
    HV *stash = gv_stashpv(package, GV_ADD);
    HV *inner = newHV();
    HV *outer = newHV();
    SV *inner_ref;

    sv_magicext((SV *) inner, NULL, PERL_MAGIC_ext, &vtbls[cls], (const char *) ptr, 0);
    inner_ref = sv_bless(newRV_noinc((SV *) inner), stash);
    sv_magic((SV *) outer, inner_ref, PERL_MAGIC_tied, NULL, 0);
    SvREFCNT_dec(inner_ref);
    return sv_bless(newRV_noinc((SV *) outer), stash);
}

/* DESTROY of any class: frees the core object, from the inner or the outer hash. */
static int
destroy_object(pTHX_ SV *ref, NzkClass cls)
{
    SV *hv = SvRV(ref);
    SV *inner;

    if (inner_ptr(aTHX_ hv, cls)) {
        sv_unmagicext(hv, PERL_MAGIC_ext, &vtbls[cls]);
        return 1;
    }
    inner = tied_inner(aTHX_ hv);
    if (inner && inner_ptr(aTHX_ inner, cls)) {
        sv_unmagicext(inner, PERL_MAGIC_ext, &vtbls[cls]);
        sv_unmagic(hv, PERL_MAGIC_tied);
        return 1;
    }
    return 0;
}

/* Holding arguments. Converting an argument can run Perl code (FETCH of a tie,
 * overloading, and a signal handler between wait steps), and that code can reassign,
 * undefine or DESTROY any variable the call was given. So every object argument is
 * taken once, when it is looked up, and held until the call's scope ends (LEAVE):
 * its hash by a reference count and its core object by a core reference. Strings are
 * copied when converted (arg_bytes). */

static void release_handle(pTHX_ void *ptr) { nzk_handle_free((NzkHandle *) ptr); }
static void release_stat(pTHX_ void *ptr) { nzk_stat_free((NzkStat *) ptr); }
static void release_watch(pTHX_ void *ptr) { nzk_watch_free((NzkWatch *) ptr); }

/* Holds a core object until the current scope ends. */
static void
hold_core(pTHX_ void *ptr, NzkClass cls)
{
    switch (cls) {
    case NZK_CLASS_HANDLE: SAVEDESTRUCTOR_X(release_handle, core_ptr(aTHX_ nzk_handle_retain((NzkHandle *) ptr))); break;
    case NZK_CLASS_STAT:   SAVEDESTRUCTOR_X(release_stat, core_ptr(aTHX_ nzk_stat_retain((NzkStat *) ptr))); break;
    default:               SAVEDESTRUCTOR_X(release_watch, core_ptr(aTHX_ nzk_watch_retain((NzkWatch *) ptr))); break;
    }
}

/* Holds an SV until the current scope ends. */
static SV *
hold_sv(pTHX_ SV *sv)
{
    SvREFCNT_inc_simple_void_NN(sv);
    SAVEFREESV(sv);
    return sv;
}

/* The core object of an object argument (a reference to an outer hash, its type
 * checked), or NULL if it is not live; the hash and the core object are held until
 * the current scope ends. */
static void *
take_object(pTHX_ SV *ref, NzkClass cls)
{
    void *ptr = outer_ptr(aTHX_ ref, cls);
    hold_sv(aTHX_ SvRV(ref));
    if (ptr)
        hold_core(aTHX_ ptr, cls);
    return ptr;
}

/* The bytes of a string argument, converted once (which may run Perl code) and
 * copied, so that Perl code run later in the call cannot change or free them. */
static const char *
arg_bytes(pTHX_ SV *sv, STRLEN *len)
{
    const char *p = SvPV(sv, *len);
    return SvPVX(sv_2mortal(newSVpvn(p, *len)));
}

/* Holds the SVs a call was given (the Perl stack does not count its references), so
 * Perl code that deletes or frees one while another is converted cannot free it
 * under the call. Call first, before anything is converted. */
static void
hold_args(pTHX_ SV **args, I32 count)
{
    I32 i;
    for (i = 0; i < count; i++)
        sv_2mortal(SvREFCNT_inc_simple_NN(args[i]));
}

/* The handle of a method call (outer object), after its type was checked. It opens
 * a scope (the caller ends it with LEAVE) that holds the handle, so Perl code run
 * while arguments are converted cannot free it under the call. */
static NzkHandle *
begin_call(pTHX_ SV *zkh, bool reset_error)
{
    NzkHandle *handle = (NzkHandle *) outer_ptr(aTHX_ zkh, NZK_CLASS_HANDLE);
    core_check(aTHX_ nzk_handle_begin(handle, reset_error));
    ENTER;
    hold_core(aTHX_ handle, NZK_CLASS_HANDLE);
    return handle;
}

/* The core object of a tie method call (inner object). With hold, it opens a scope
 * (the caller ends it with LEAVE) that holds the object while the key and value are
 * converted. */
static void *
tie_state(pTHX_ SV *attr_hash, NzkClass cls, bool hold)
{
    void *ptr;
    check_object(aTHX_ attr_hash, "attr_hash", cls);
    ptr = inner_ptr(aTHX_ SvRV(attr_hash), cls);
    if (!ptr)
        croak_message(aTHX_ NZK_MESSAGE_INVALID_HANDLE, cls);
    if (hold) {
        ENTER;
        hold_core(aTHX_ ptr, cls);
    }
    return ptr;
}

static void
check_parity(pTHX_ I32 count)
{
    if (count % 2)
        croak_message(aTHX_ NZK_MESSAGE_INVALID_ARG_COUNT, NZK_CLASS_HANDLE);
}

static void release_options(pTHX_ void *opts) { nzk_options_free((NzkOptions *) opts); }

/* Code refs the core holds (callbacks, code-ref watches): a token is the CV with a
 * reference count the core owns, given back through release_token. */
#define is_code(sv) (SvROK(sv) && SvTYPE(SvRV(sv)) == SVt_PVCV)

static void *
code_token(pTHX_ SV *ref)
{
    return SvREFCNT_inc_simple_NN(SvRV(ref));
}

static void
release_token(void *token)
{
    dTHX;
    SvREFCNT_dec((SV *) token);
}

/* New options for a call, freed when the current scope ends, however it ends (a
 * croak, or a die in Perl code run while a value is converted). */
static NzkOptions *
new_options(pTHX_ NzkMethod method)
{
    NzkOptions *opts = (NzkOptions *) core_ptr(aTHX_ nzk_options_new(method));
    SAVEDESTRUCTOR_X(release_options, opts);
    return opts;
}

/* Converts an ACL array reference into the options' ACL; croaks for a bad one. */
static void
convert_acl(pTHX_ NzkOptions *opts, SV *val)
{
    AV *av;
    SSize_t i, last;
    int is_array = SvROK(val) && SvTYPE(SvRV(val)) == SVt_PVAV;

    core_check(aTHX_ nzk_options_begin_acl(opts, is_array));
    /* Converting elements can run Perl code that changes the array or its entries:
     * the array and each entry's values are held (mortal) while they are read. */
    av = (AV *) sv_2mortal(SvREFCNT_inc_simple_NN(SvRV(val)));
    last = av_len(av);
    for (i = 0; i <= last; i++) {
        SV **elem = av_fetch(av, i, 0);
        SV *perms = NULL, *scheme = NULL, *id = NULL;
        const char *s = NULL, *d = NULL;
        STRLEN slen = 0, dlen = 0;
        int64_t perms_iv = 0;
        int is_hash;

        if (!elem)  /* a hole in the array: nothing there to check or send */
            continue;
        is_hash = SvROK(*elem) && SvTYPE(SvRV(*elem)) == SVt_PVHV;
        if (is_hash) {
            HV *entry = (HV *) SvRV(*elem);
            SV **pp = hv_fetchs(entry, "perms", 0);
            SV **sp = hv_fetchs(entry, "scheme", 0);
            SV **ip = hv_fetchs(entry, "id", 0);
            perms = pp ? sv_2mortal(SvREFCNT_inc_simple_NN(*pp)) : NULL;
            scheme = sp ? sv_2mortal(SvREFCNT_inc_simple_NN(*sp)) : NULL;
            id = ip ? sv_2mortal(SvREFCNT_inc_simple_NN(*ip)) : NULL;
            if (perms)
                perms_iv = (int64_t) SvIV(perms);
            if (scheme)
                s = arg_bytes(aTHX_ scheme, &slen);
            if (id)
                d = arg_bytes(aTHX_ id, &dlen);
        }
        core_check(aTHX_ nzk_options_push_acl(opts, is_hash, perms != NULL, perms_iv,
                                              (const uint8_t *) s, slen, (const uint8_t *) d, dlen));
    }
}

/* Reads `name => value` pairs into opts, in order; croaks at the first bad one.
 * Runs inside a call's scope: stat and watch objects are taken and held when their
 * option is read, so converting a later value (which can run Perl code) cannot free
 * them; the options copy what they keep. */
static void
parse_options(pTHX_ NzkOptions *opts, SV **args, I32 count)
{
    I32 i;

    check_parity(aTHX_ count);
    for (i = 0; i < count; i += 2) {
        STRLEN len;
        const char *name = SvPV(args[i], len);
        SV *val = args[i + 1];
        NzkOption option = nzk_option(opts, (const uint8_t *) name, len);
        const char *msg = NULL;

        switch (option) {
        case NZK_OPTION_PANIC:
            croak_panic(aTHX);
            break;
        case NZK_OPTION_SESSION_TIMEOUT:
        case NZK_OPTION_FLAGS:
        case NZK_OPTION_PATH_READ_LEN:
        case NZK_OPTION_DATA_READ_LEN:
        case NZK_OPTION_VERSION:
        case NZK_OPTION_MODE:
        case NZK_OPTION_WATCH_MODE:
        case NZK_OPTION_QUEUE:
        case NZK_OPTION_WATCH_TYPE:
            msg = nzk_options_set_int(opts, option, (int64_t) SvIV(val));
            break;
        case NZK_OPTION_TTL:
            msg = nzk_options_set_ttl(opts, (int64_t) SvIV(val));
            break;
        case NZK_OPTION_TIMEOUT:
            msg = nzk_options_set_timeout(opts, (uint64_t) SvUV(val));
            break;
        case NZK_OPTION_SESSION_ID: {
            STRLEN idlen;
            const char *id = SvPV(val, idlen);
            msg = nzk_options_set_session_id(opts, (const uint8_t *) id, idlen);
            break;
        }
        case NZK_OPTION_STAT: {
            int ok;
            SvGETMAGIC(val);
            ok = is_object(aTHX_ val, NZK_CLASS_STAT);
            msg = nzk_options_set_stat(opts, ok, ok ? (NzkStat *) take_object(aTHX_ val, NZK_CLASS_STAT) : NULL);
            break;
        }
        case NZK_OPTION_WATCH: {
            int ok;
            SvGETMAGIC(val);
            if (is_code(val)) {
                msg = nzk_options_set_watch_callback(opts, code_token(aTHX_ val));
                break;
            }
            ok = is_object(aTHX_ val, NZK_CLASS_WATCH);
            msg = nzk_options_set_watch(opts, ok, ok ? (NzkWatch *) take_object(aTHX_ val, NZK_CLASS_WATCH) : NULL);
            break;
        }
        case NZK_OPTION_CALLBACK:
            SvGETMAGIC(val);
            msg = nzk_options_set_callback(opts, is_code(val) ? code_token(aTHX_ val) : NULL);
            break;
        case NZK_OPTION_ACL:
            convert_acl(aTHX_ opts, val);
            break;
        case NZK_OPTION_TLS_CA_FILE:
        case NZK_OPTION_TLS_CERT_FILE:
        case NZK_OPTION_TLS_KEY_FILE: {
            STRLEN flen;
            const char *file = SvPV(val, flen);
            msg = nzk_options_set_text(opts, option, (const uint8_t *) file, flen);
            break;
        }
        case NZK_OPTION_TLS_VERIFY_HOSTNAME:
        case NZK_OPTION_READ_ONLY:
            msg = nzk_options_set_int(opts, option, SvTRUE(val) ? 1 : 0);
            break;
        case NZK_OPTION_SASL_OPTIONS: {
            int is_hash = SvROK(val) && SvTYPE(SvRV(val)) == SVt_PVHV;
            HV *hv;
            HE *he;
            core_check(aTHX_ nzk_options_begin_sasl(opts, is_hash));
            /* FETCH or overloading of a value can change the hash: it and the value
             * are held, and the key copied, while the value is converted. */
            hv = (HV *) hold_sv(aTHX_ SvRV(val));
            hv_iterinit(hv);
            while ((he = hv_iternext(hv))) {
                STRLEN klen, vlen;
                const char *k = arg_bytes(aTHX_ hv_iterkeysv(he), &klen);
                SV *value = sv_2mortal(SvREFCNT_inc_simple_NN(hv_iterval(hv, he)));
                const char *v = SvPV(value, vlen);
                core_check(aTHX_ nzk_options_add_sasl(opts, (const uint8_t *) k, klen, (const uint8_t *) v, vlen));
            }
            break;
        }
        default:  /* unknown names are ignored, as the original did */
            break;
        }
        core_check(aTHX_ msg);
    }
}

/* The prologue of a handle method: holds the arguments, checks the handle and holds
 * it in a new scope, and makes the call's options (freed with the scope). The method
 * then converts its fixed arguments, reads its options with parse_options, calls the
 * core, and ends the scope with LEAVE (the epilogue). */
static NzkHandle *
begin_method(pTHX_ SV **args, I32 items, NzkMethod method, NzkOptions **opts)
{
    NzkHandle *handle;
    hold_args(aTHX_ args, items);
    check_object(aTHX_ args[0], "zkh", NZK_CLASS_HANDLE);
    handle = begin_call(aTHX_ args[0], 1);
    *opts = new_options(aTHX_ method);
    return handle;
}

#define BEGIN_METHOD(method) handle = begin_method(aTHX_ &ST(0), items, (method), &opts)
#define OPTIONS_FROM(first) parse_options(aTHX_ opts, &ST(first), items - (first))
#define PATH_ARG(path) STRLEN path##_len; const uint8_t *path##_ptr = (const uint8_t *) arg_bytes(aTHX_ path, &path##_len)

static SV *
value_sv(pTHX_ const NzkValue *v)
{
    switch (v->kind) {
    case NZK_VALUE_KIND_INT:   return newSViv((IV) v->int_);
    case NZK_VALUE_KIND_UINT:  return newSVuv((UV) v->uint);
    case NZK_VALUE_KIND_BYTES: return newSVpvn((const char *) v->bytes, v->len);
    default:                   return newSV(0);
    }
}

/* Sinks: the core hands results to these during a call. */
static void
sink_scalar(void *ctx, const uint8_t *data, size_t len)
{
    dTHX;
    *(SV **) ctx = newSVpvn((const char *) data, len);
}

/* Takes a buffer the core hands over (malloc'd, NUL after len bytes): a perl
 * whose Safefree is the system's free adopts it as the string's buffer, so node
 * data is not copied again; another perl copies it and gives it back. */
#if defined(MYMALLOC) || defined(PERL_TRACK_MEMPOOL)
#  define NZK_ADOPT_BUFFERS 0
#else
#  define NZK_ADOPT_BUFFERS 1
#endif
static void
sink_owned_scalar(void *ctx, uint8_t *data, size_t len)
{
    dTHX;
#if NZK_ADOPT_BUFFERS
    SV *sv = newSV_type(SVt_PV);
    sv_usepvn_flags(sv, (char *) data, len, SV_HAS_TRAILING_NUL);
    *(SV **) ctx = sv;
#else
    *(SV **) ctx = newSVpvn((const char *) data, len);
    nzk_bytes_free(data);
#endif
}

/* Pushes one string onto the Perl stack (the XSUB did PUTBACK before the call).
 * The context is the interpreter (STACK_CTX): called once per child of
 * get_children, so it does not look the interpreter up each time. */
#ifdef MULTIPLICITY
#  define STACK_CTX ((void *) aTHX)
#else
#  define STACK_CTX NULL
#endif
static void
sink_stack(void *ctx, const uint8_t *data, size_t len)
{
#ifdef MULTIPLICITY
    pTHX = (PerlInterpreter *) ctx;
#else
    PERL_UNUSED_VAR(ctx);
#endif
    dSP;
    XPUSHs(newSVpvn_flags((const char *) data, len, SVs_TEMP));
    PUTBACK;
}

/* Appends one string to an array. */
static void
sink_array(void *ctx, const uint8_t *data, size_t len)
{
    dTHX;
    av_push((AV *) ctx, newSVpvn((const char *) data, len));
}

/* One identity of whoami(): { scheme, id }. */
static void
sink_identity(void *ctx, const uint8_t *scheme, size_t scheme_len, const uint8_t *id, size_t id_len)
{
    dTHX;
    HV *entry = newHV();
    (void) hv_stores(entry, "scheme", newSVpvn((const char *) scheme, scheme_len));
    (void) hv_stores(entry, "id", newSVpvn((const char *) id, id_len));
    av_push((AV *) ctx, newRV_noinc((SV *) entry));
}

static void
sink_count(void *ctx, const uint8_t *data, size_t len)
{
    PERL_UNUSED_VAR(data);
    PERL_UNUSED_VAR(len);
    ++*(size_t *) ctx;
}

static void
sink_acl(void *ctx, int32_t perms, const uint8_t *scheme, size_t scheme_len, const uint8_t *id, size_t id_len)
{
    dTHX;
    HV *entry = newHV();
    (void) hv_stores(entry, "perms", newSViv(perms));
    (void) hv_stores(entry, "scheme", newSVpvn((const char *) scheme, scheme_len));
    (void) hv_stores(entry, "id", newSVpvn((const char *) id, id_len));
    av_push((AV *) ctx, newRV_noinc((SV *) entry));
}

/* The lease behind a Net::ZooKeeper::Cluster::Connection object. */
static NzkLease *
lease_arg(pTHX_ SV *zk)
{
    MAGIC *mg;
    if (!SvROK(zk) || !sv_derived_from(zk, "Net::ZooKeeper::Cluster::Connection"))
        croak_message(aTHX_ NZK_MESSAGE_NOT_CLUSTER_CONNECTION, NZK_CLASS_HANDLE);
    mg = our_magic(aTHX_ SvRV(zk), &lease_vtbl);
    if (!mg)
        croak_message(aTHX_ NZK_MESSAGE_INVALID_HANDLE, NZK_CLASS_HANDLE);
    return (NzkLease *) mg->mg_ptr;
}

static SV *
make_lease(pTHX_ NzkLease *lease)
{
    SV *obj = newSV(0);
    sv_magicext(obj, NULL, PERL_MAGIC_ext, &lease_vtbl, (const char *) lease, 0);
    return sv_bless(newRV_noinc(obj), gv_stashpv("Net::ZooKeeper::Cluster::Connection", GV_ADD));
}

static void
free_waiter(void *waiter)
{
    nzk_waiter_free((NzkWaiter *) waiter);
}

/* The live watch a wait() call's zkwh names now (it was held by hold_args, but Perl
 * code may have assigned it another value); croaks as the entry checks do. */
static NzkWatch *
wait_target(pTHX_ SV *zkwh)
{
    NzkWatch *watch;
    check_object(aTHX_ zkwh, "zkwh", NZK_CLASS_WATCH);
    watch = (NzkWatch *) outer_ptr(aTHX_ zkwh, NZK_CLASS_WATCH);
    if (!watch)
        croak_message(aTHX_ NZK_MESSAGE_INVALID_HANDLE, NZK_CLASS_WATCH);
    return watch;
}

/* The persistent watch behind a Net::ZooKeeper::PersistentWatch object; croaks for
 * another value, a destroyed object, and in a process that inherited it. */
static NzkPersistentWatch *
persistent_arg(pTHX_ SV *pw)
{
    MAGIC *mg;
    if (!SvROK(pw) || !sv_derived_from(pw, "Net::ZooKeeper::PersistentWatch"))
        croak_message(aTHX_ NZK_MESSAGE_NOT_PERSISTENT_WATCH, NZK_CLASS_HANDLE);
    mg = our_magic(aTHX_ SvRV(pw), &persistent_vtbl);
    core_check(aTHX_ nzk_persistent_begin(mg ? (NzkPersistentWatch *) mg->mg_ptr : NULL));
    return (NzkPersistentWatch *) mg->mg_ptr;
}

static SV *
make_persistent(pTHX_ NzkPersistentWatch *pw)
{
    SV *obj = newSV(0);
    sv_magicext(obj, NULL, PERL_MAGIC_ext, &persistent_vtbl, (const char *) pw, 0);
    return sv_bless(newRV_noinc(obj), gv_stashpv("Net::ZooKeeper::PersistentWatch", GV_ADD));
}

static void
free_event_waiter(void *waiter)
{
    nzk_event_waiter_free((NzkEventWaiter *) waiter);
}

/* An event of a persistent watch: { type, state, path } (path undef for a session
 * event). */
static SV *
event_hash(pTHX_ const NzkEvent *e)
{
    HV *hv = newHV();
    (void) hv_stores(hv, "type", newSViv(e->event));
    (void) hv_stores(hv, "state", newSViv(e->state));
    (void) hv_stores(hv, "path", e->path ? newSVpvn((const char *) e->path, e->path_len) : newSV(0));
    return newRV_noinc((SV *) hv);
}

/* One value of get_many(): undef for a failed read, and for null data (data NULL:
 * newSVpvn(NULL, 0) is undef). */
static void
sink_result(void *ctx, int32_t code, const uint8_t *data, size_t len)
{
    dTHX;
    av_push((AV *) ctx, code == NZK_RESULT_OK ? newSVpvn((const char *) data, len) : newSV(0));
}

/* The results of multi() and multi_read(): one hash per operation, in order. The
 * stat class is looked up before the call: a sink must not croak. */
typedef struct {
    AV *results;
    const char *stat_class;
} OpResults;

static void
sink_op(void *ctx, const NzkOpResult *r)
{
    dTHX;
    OpResults *out = (OpResults *) ctx;
    HV *result = newHV();
    AV *children;
    size_t i;

    (void) hv_stores(result, "type", newSVpvn((const char *) r->op.data, r->op.len));
    switch (r->value) {
    case NZK_OP_VALUE_PATH:
        (void) hv_stores(result, "path", newSVpvn((const char *) r->bytes.data, r->bytes.len));
        break;
    case NZK_OP_VALUE_DATA:  /* NULL data (null node data) is undef, as newSVpvn makes it */
        (void) hv_stores(result, "data", newSVpvn((const char *) r->bytes.data, r->bytes.len));
        break;
    case NZK_OP_VALUE_CHILDREN:
        children = newAV();
        for (i = 0; i < r->count; i++)
            av_push(children, newSVpvn((const char *) r->children[i].data, r->children[i].len));
        (void) hv_stores(result, "children", newRV_noinc((SV *) children));
        break;
    default:
        break;
    }
    /* The stat object is the sink's: the Perl object made here frees it. */
    if (r->stat)
        (void) hv_stores(result, "stat", make_object(aTHX_ r->stat, NZK_CLASS_STAT, out->stat_class));
    (void) hv_stores(result, "error", newSViv(r->code));
    av_push(out->results, newRV_noinc((SV *) result));
}

static void release_multi(pTHX_ void *multi) { nzk_multi_free((NzkMulti *) multi); }

/* The elements of an array, each held (mortal) in a C array freed with the current
 * scope, so that Perl code run while one is converted (a tied element's FETCH) can
 * change the array without freeing an element under the call. */
static SV **
held_elements(pTHX_ AV *av, SSize_t *count)
{
    SSize_t n = av_len(av) + 1, i;
    SV **elems;

    Newx(elems, n > 0 ? n : 1, SV *);
    SAVEFREEPV(elems);
    for (i = 0; i < n; i++) {
        SV **elem = av_fetch(av, i, 0);
        elems[i] = elem ? sv_2mortal(SvREFCNT_inc_simple_NN(*elem)) : &PL_sv_undef;
    }
    *count = n;
    return elems;
}

/* Converts the operations of multi() or multi_read(), each an array reference
 * [ name, path, data (create and set only), options... ], into a batch the core
 * holds, freed when the current scope ends. Croaks at the first bad operation, so
 * nothing is sent unless all are good. Each operation's options are read with the
 * options builder of its method (freed with the scope too), in the order create()
 * reads its arguments: path, data, options. */
static NzkMulti *
convert_ops(pTHX_ NzkMultiKind kind, SV **args, I32 count)
{
    NzkMulti *multi = (NzkMulti *) core_ptr(aTHX_ nzk_multi_new(kind));
    I32 i;

    SAVEDESTRUCTOR_X(release_multi, multi);
    for (i = 0; i < count; i++) {
        SV *op = args[i];
        SV **elems = NULL;
        SSize_t n = 0;
        STRLEN len = 0, path_len, data_len = 0;
        const char *name = NULL, *path, *data = NULL;
        NzkOpSpec spec;
        NzkOptions *opts;

        SvGETMAGIC(op);
        if (SvROK(op) && SvTYPE(SvRV(op)) == SVt_PVAV)
            elems = held_elements(aTHX_ (AV *) hold_sv(aTHX_ SvRV(op)), &n);
        if (n > 0)
            name = SvPV(elems[0], len);
        core_check(aTHX_ nzk_multi_op(multi, n > 0, (const uint8_t *) name, len, &spec));
        if ((size_t) (n - 1) < spec.args)
            croak_message(aTHX_ NZK_MESSAGE_INVALID_ARG_COUNT, NZK_CLASS_HANDLE);
        opts = new_options(aTHX_ spec.method);
        path = arg_bytes(aTHX_ elems[1], &path_len);
        if (spec.args > 1)
            data = arg_bytes(aTHX_ elems[2], &data_len);
        parse_options(aTHX_ opts, elems + 1 + spec.args, (I32) (n - 1 - (SSize_t) spec.args));
        core_check(aTHX_ nzk_multi_add(multi, opts, (const uint8_t *) path, path_len,
                                       (const uint8_t *) data, data_len));
    }
    return multi;
}

/* Arguments of a callback, collected before it is called. */
static void
sink_arg(void *ctx, const NzkValue *value)
{
    dTHX;
    av_push((AV *) ctx, value_sv(aTHX_ value));
}

static void free_ready(pTHX_ void *ready) { nzk_ready_free((NzkReady *) ready); }

/* add_watch's new watch, as its Perl object. */
static void
sink_persistent(void *ctx, NzkPersistentWatch *pw)
{
    dTHX;
    av_push((AV *) ctx, make_persistent(aTHX_ pw));
}
static void free_dispatch_waiter(void *waiter) { nzk_dispatch_waiter_free((NzkDispatchWaiter *) waiter); }

/* Runs the handle object's callbacks that are due, in this thread; returns how many
 * ran. A callback that dies is reported with warn, and the others still run. */
static UV
run_callbacks(pTHX_ NzkHandle *handle)
{
    UV count = 0;
    NzkArgSinks sinks;
    OpResults ops;
    /* One array for every callback's arguments, emptied after each call. */
    AV *args = (AV *) sv_2mortal((SV *) newAV());

    ops.results = args;
    ops.stat_class = class_name(aTHX_ NZK_CLASS_STAT);
    sinks.ctx = args;
    sinks.value = sink_arg;
    sinks.acl = sink_acl;
    sinks.identity = sink_identity;
    sinks.op_ctx = &ops;
    sinks.op = sink_op;
    sinks.persistent = sink_persistent;
    for (;;) {
        dSP;
        NzkReady *ready = NULL;
        SV *cb;
        SSize_t i, last;

        core_code(aTHX_ nzk_dispatch_next(handle, &ready));
        if (!ready)
            break;
        ENTER;
        SAVETMPS;
        SAVEDESTRUCTOR_X(free_ready, ready);
        av_clear(args);
        core_code(aTHX_ nzk_ready_args(ready, &sinks));
        /* Held for the call: the callback may release its own last reference. */
        cb = hold_sv(aTHX_ (SV *) core_ptr(aTHX_ nzk_ready_token(ready)));
        PUSHMARK(SP);
        last = av_len(args);
        EXTEND(SP, last + 1);
        for (i = 0; i <= last; i++)
            PUSHs(*av_fetch(args, i, 0));
        PUTBACK;
        call_sv(cb, G_VOID | G_DISCARD | G_EVAL);
        if (SvTRUE(ERRSV)) {
            STRLEN len;
            const char *err = SvPV(ERRSV, len);
            warn_message(aTHX_ nzk_ready_died(ready, (const uint8_t *) err, len));
        }
        FREETMPS;
        LEAVE;
        count++;
    }
    return count;
}

#define RETURN_BOOL(ok) STMT_START { ST(0) = (ok) ? &PL_sv_yes : &PL_sv_no; XSRETURN(1); } STMT_END
/* A call made with a callback returns true at once. */
#define RETURN_IF_SUBMITTED(code) STMT_START { if ((code) == NZK_RESULT_SUBMITTED) RETURN_BOOL(1); } STMT_END

/* Pushes the elements of a (mortal) array onto the Perl stack. */
#define PUSH_ARRAY(av) STMT_START {                                        \
        SSize_t n_ = av_len(av) + 1, i_;                                   \
        EXTEND(SP, n_);                                                    \
        for (i_ = 0; i_ < n_; i_++)                                        \
            PUSHs(*av_fetch((av), i_, 0));                                 \
    } STMT_END

/* Returns a list (a mortal array) in list context, its length (or undef on failure)
 * in scalar context. */
#define RETURN_LIST(av, ok) STMT_START {                                   \
        if (GIMME_V == G_LIST)                                             \
            PUSH_ARRAY(av);                                                \
        else if (ok)                                                       \
            mXPUSHi(av_len(av) + 1);                                       \
        else                                                               \
            XPUSHs(&PL_sv_undef);                                          \
    } STMT_END


MODULE = Net::ZooKeeper  PACKAGE = Net::ZooKeeper

PROTOTYPES: ENABLE

BOOT:
    nzk_callbacks_init(release_token);

void
new(package, hosts, ...)
        SV *package
        SV *hosts
    PROTOTYPE: $$;@
    PREINIT:
        NzkOptions *opts;
        NzkHandle *handle = NULL;
        STRLEN len;
        const char *h;
        int32_t rc;
    PPCODE:
        hold_args(aTHX_ &ST(0), items);
        ENTER;
        opts = new_options(aTHX_ NZK_METHOD_NEW);
        OPTIONS_FROM(2);
        h = SvPV(hosts, len);
        rc = core_code(aTHX_ nzk_handle_new((const uint8_t *) h, len, opts, &handle));
        LEAVE;
        if (!handle) {
            errno = rc;
            XSRETURN_UNDEF;
        }
        ST(0) = sv_2mortal(make_object(aTHX_ handle, NZK_CLASS_HANDLE, SvPV_nolen(package)));
        /* As the original: a new handle leaves $! 0, whatever it was before. */
        errno = 0;
        XSRETURN(1);

void
DESTROY(zkh)
        SV *zkh
    PROTOTYPE: $
    PREINIT:
        int ok;
    PPCODE:
        check_object(aTHX_ zkh, "zkh", NZK_CLASS_HANDLE);
        {
            /* Calls in flight complete (or get ZCLOSING) and their callbacks run
             * before the handle goes. */
            NzkHandle *handle = (NzkHandle *) outer_ptr(aTHX_ zkh, NZK_CLASS_HANDLE);
            if (handle) {
                core_code(aTHX_ nzk_dispatch_close(handle));
                (void) run_callbacks(aTHX_ handle);
            }
        }
        ok = destroy_object(aTHX_ zkh, NZK_CLASS_HANDLE);
        if (GIMME_V == G_VOID)
            XSRETURN_EMPTY;
        RETURN_BOOL(ok);

void
get_error(zkh)
        SV *zkh
    PROTOTYPE: $
    PREINIT:
        NzkHandle *handle;
        int err = 0;
        int32_t code;
    PPCODE:
        check_object(aTHX_ zkh, "zkh", NZK_CLASS_HANDLE);
        handle = begin_call(aTHX_ zkh, 0);
        code = core_code(aTHX_ nzk_handle_get_error(handle, &err));
        LEAVE;
        errno = err;
        mXPUSHi(code);

void
add_auth(zkh, scheme, cert)
        SV *zkh
        SV *scheme
        SV *cert
    PROTOTYPE: $$$
    PREINIT:
        NzkHandle *handle;
        STRLEN slen, clen;
        const char *s, *c;
        int32_t code;
    PPCODE:
        hold_args(aTHX_ &ST(0), items);
        check_object(aTHX_ zkh, "zkh", NZK_CLASS_HANDLE);
        handle = begin_call(aTHX_ zkh, 1);
        s = arg_bytes(aTHX_ scheme, &slen);
        c = arg_bytes(aTHX_ cert, &clen);
        code = core_code(aTHX_ nzk_add_auth(handle, (const uint8_t *) s, slen, (const uint8_t *) c, clen));
        LEAVE;
        RETURN_BOOL(code == NZK_RESULT_OK);

void
create(zkh, path, buf, ...)
        SV *zkh
        SV *path
        SV *buf
    PROTOTYPE: $$$;@
    PREINIT:
        NzkHandle *handle;
        NzkOptions *opts;
        SV *created = NULL;
        int32_t code;
    PPCODE:
        BEGIN_METHOD(NZK_METHOD_CREATE);
        {
            PATH_ARG(path);
            PATH_ARG(buf);
            OPTIONS_FROM(3);
            code = core_code(aTHX_ nzk_create(handle, path_ptr, path_len, buf_ptr, buf_len, opts, &created, sink_scalar));
        }
        LEAVE;
        RETURN_IF_SUBMITTED(code);
        ST(0) = created ? sv_2mortal(created) : &PL_sv_undef;
        XSRETURN(1);

void
delete(zkh, path, ...)
        SV *zkh
        SV *path
    PROTOTYPE: $$;@
    PREINIT:
        NzkHandle *handle;
        NzkOptions *opts;
        int32_t code;
    PPCODE:
        BEGIN_METHOD(NZK_METHOD_DELETE);
        {
            PATH_ARG(path);
            OPTIONS_FROM(2);
            code = core_code(aTHX_ nzk_delete(handle, path_ptr, path_len, opts));
        }
        LEAVE;
        RETURN_IF_SUBMITTED(code);
        RETURN_BOOL(code == NZK_RESULT_OK);

void
exists(zkh, path, ...)
        SV *zkh
        SV *path
    PROTOTYPE: $$;@
    PREINIT:
        NzkHandle *handle;
        NzkOptions *opts;
        int32_t code;
    PPCODE:
        BEGIN_METHOD(NZK_METHOD_EXISTS);
        {
            PATH_ARG(path);
            OPTIONS_FROM(2);
            code = core_code(aTHX_ nzk_exists(handle, path_ptr, path_len, opts));
        }
        LEAVE;
        RETURN_IF_SUBMITTED(code);
        RETURN_BOOL(code == NZK_RESULT_OK);

void
get_children(zkh, path, ...)
        SV *zkh
        SV *path
    PROTOTYPE: $$;@
    PREINIT:
        NzkHandle *handle;
        NzkOptions *opts;
        int32_t code;
    PPCODE:
        BEGIN_METHOD(NZK_METHOD_GET_CHILDREN);
        {
            PATH_ARG(path);
            OPTIONS_FROM(2);
            if (GIMME_V == G_LIST) {
                /* Names go straight onto the Perl stack: no array in between. */
                PUTBACK;
                code = nzk_get_children(handle, path_ptr, path_len, opts, STACK_CTX, sink_stack);
                SPAGAIN;
                core_code(aTHX_ code);
                if (code == NZK_RESULT_SUBMITTED)
                    XPUSHs(&PL_sv_yes);
            }
            else {
                size_t count = 0;
                code = core_code(aTHX_ nzk_get_children(handle, path_ptr, path_len, opts, &count, sink_count));
                if (code == NZK_RESULT_SUBMITTED)
                    XPUSHs(&PL_sv_yes);
                else if (code == NZK_RESULT_OK)
                    mXPUSHu(count);
                else
                    XPUSHs(&PL_sv_undef);
            }
        }
        LEAVE;

void
get(zkh, path, ...)
        SV *zkh
        SV *path
    PROTOTYPE: $$;@
    PREINIT:
        NzkHandle *handle;
        NzkOptions *opts;
        SV *data = NULL;
        int32_t code;
    PPCODE:
        BEGIN_METHOD(NZK_METHOD_GET);
        {
            PATH_ARG(path);
            OPTIONS_FROM(2);
            code = core_code(aTHX_ nzk_get(handle, path_ptr, path_len, opts, &data, sink_owned_scalar));
        }
        LEAVE;
        RETURN_IF_SUBMITTED(code);
        ST(0) = data ? sv_2mortal(data) : &PL_sv_undef;
        XSRETURN(1);

void
get_many(zkh, ...)
        SV *zkh
    PROTOTYPE: $@
    PREINIT:
        NzkHandle *handle;
        NzkBytes *paths;
        I32 i, n;
        AV *results;
    PPCODE:
        hold_args(aTHX_ &ST(0), items);
        check_object(aTHX_ zkh, "zkh", NZK_CLASS_HANDLE);
        handle = begin_call(aTHX_ zkh, 1);
        n = items - 1;
        Newx(paths, n > 0 ? n : 1, NzkBytes);
        SAVEFREEPV(paths);
        for (i = 0; i < n; i++) {
            STRLEN len;
            paths[i].data = (const uint8_t *) arg_bytes(aTHX_ ST(i + 1), &len);
            paths[i].len = len;
        }
        results = newAV();
        sv_2mortal((SV *) results);
        if (n > 0)
            core_code(aTHX_ nzk_get_many(handle, paths, (size_t) n, results, sink_result));
        LEAVE;
        PUSH_ARRAY(results);

void
set(zkh, path, buf, ...)
        SV *zkh
        SV *path
        SV *buf
    PROTOTYPE: $$$;@
    PREINIT:
        NzkHandle *handle;
        NzkOptions *opts;
        int32_t code;
    PPCODE:
        BEGIN_METHOD(NZK_METHOD_SET);
        {
            PATH_ARG(path);
            PATH_ARG(buf);
            OPTIONS_FROM(3);
            code = core_code(aTHX_ nzk_set(handle, path_ptr, path_len, buf_ptr, buf_len, opts));
        }
        LEAVE;
        RETURN_IF_SUBMITTED(code);
        RETURN_BOOL(code == NZK_RESULT_OK);

void
get_acl(zkh, path, ...)
        SV *zkh
        SV *path
    PROTOTYPE: $$;@
    PREINIT:
        NzkHandle *handle;
        NzkOptions *opts;
        int32_t code;
        AV *entries;
    PPCODE:
        BEGIN_METHOD(NZK_METHOD_GET_ACL);
        entries = (AV *) sv_2mortal((SV *) newAV());
        {
            PATH_ARG(path);
            OPTIONS_FROM(2);
            code = core_code(aTHX_ nzk_get_acl(handle, path_ptr, path_len, opts, entries, sink_acl));
        }
        LEAVE;
        RETURN_IF_SUBMITTED(code);
        RETURN_LIST(entries, code == NZK_RESULT_OK);

void
set_acl(zkh, path, acl_arr, ...)
        SV *zkh
        SV *path
        SV *acl_arr
    PROTOTYPE: $$$;@
    PREINIT:
        NzkHandle *handle;
        NzkOptions *opts;
        int32_t code;
    PPCODE:
        hold_args(aTHX_ &ST(0), items);
        check_object(aTHX_ zkh, "zkh", NZK_CLASS_HANDLE);
        if (!SvROK(acl_arr) || SvTYPE(SvRV(acl_arr)) != SVt_PVAV)
            croak_message(aTHX_ NZK_MESSAGE_ACL_ARR_NOT_ARRAY, NZK_CLASS_HANDLE);
        BEGIN_METHOD(NZK_METHOD_SET_ACL);
        check_parity(aTHX_ items - 3);
        convert_acl(aTHX_ opts, acl_arr);
        OPTIONS_FROM(3);
        {
            PATH_ARG(path);
            code = core_code(aTHX_ nzk_set_acl(handle, path_ptr, path_len, opts));
        }
        LEAVE;
        RETURN_IF_SUBMITTED(code);
        RETURN_BOOL(code == NZK_RESULT_OK);

void
stat(zkh)
        SV *zkh
    PROTOTYPE: $
    PPCODE:
        check_object(aTHX_ zkh, "zkh", NZK_CLASS_HANDLE);
        (void) begin_call(aTHX_ zkh, 1);
        LEAVE;
        ST(0) = sv_2mortal(make_object(aTHX_ core_ptr(aTHX_ nzk_stat_new()), NZK_CLASS_STAT,
                                       class_name(aTHX_ NZK_CLASS_STAT)));
        XSRETURN(1);

void
watch(zkh, ...)
        SV *zkh
    PROTOTYPE: $;@
    PREINIT:
        NzkHandle *handle;
        NzkOptions *opts;
        NzkWatch *watch;
    PPCODE:
        BEGIN_METHOD(NZK_METHOD_WATCH);
        OPTIONS_FROM(1);
        watch = (NzkWatch *) core_ptr(aTHX_ nzk_watch_new(handle, opts));
        LEAVE;
        ST(0) = sv_2mortal(make_object(aTHX_ watch, NZK_CLASS_WATCH, class_name(aTHX_ NZK_CLASS_WATCH)));
        XSRETURN(1);

void
multi(zkh, ...)
        SV *zkh
    PROTOTYPE: $@
    ALIAS:
        multi_read = 1
    PREINIT:
        NzkHandle *handle;
        NzkOptions *opts;
        NzkMulti *multi;
        OpResults out;
        int32_t code;
        I32 ops = items - 1;
    PPCODE:
        BEGIN_METHOD(NZK_METHOD_MULTI);
        /* A trailing `callback => CODE` (operations are array references). */
        if (ops >= 2 && !SvROK(ST(items - 2)) && is_code(ST(items - 1)))
            ops -= 2;
        multi = convert_ops(aTHX_ ix ? NZK_MULTI_KIND_READ : NZK_MULTI_KIND_WRITE, &ST(1), ops);
        OPTIONS_FROM(1 + ops);
        out.results = (AV *) sv_2mortal((SV *) newAV());
        out.stat_class = class_name(aTHX_ NZK_CLASS_STAT);
        code = core_code(aTHX_ nzk_multi_run(handle, multi, opts, &out, sink_op));
        LEAVE;
        RETURN_IF_SUBMITTED(code);
        /* One hash per operation in list context (also when it failed); in scalar
         * context whether the transaction committed, or every read succeeded. */
        if (GIMME_V != G_LIST)
            RETURN_BOOL(code == NZK_RESULT_OK);
        PUSH_ARRAY(out.results);

void
set_log_level(level)
        SV *level
    PROTOTYPE: $
    PPCODE:
        core_check(aTHX_ nzk_set_log_level((int64_t) (int) SvIV(level)));
        XSRETURN_EMPTY;

void
add_watch(zkh, path, ...)
        SV *zkh
        SV *path
    PROTOTYPE: $$;@
    PREINIT:
        NzkHandle *handle;
        NzkOptions *opts;
        NzkPersistentWatch *pw = NULL;
        int32_t code;
    PPCODE:
        BEGIN_METHOD(NZK_METHOD_ADD_WATCH);
        {
            PATH_ARG(path);
            OPTIONS_FROM(2);
            code = core_code(aTHX_ nzk_add_watch(handle, path_ptr, path_len, opts, &pw));
        }
        LEAVE;
        RETURN_IF_SUBMITTED(code);
        ST(0) = pw ? sv_2mortal(make_persistent(aTHX_ pw)) : &PL_sv_undef;
        XSRETURN(1);

void
remove_watches(zkh, path, ...)
        SV *zkh
        SV *path
    PROTOTYPE: $$;@
    ALIAS:
        remove_all_watches = 1
    PREINIT:
        NzkHandle *handle;
        NzkOptions *opts;
        int32_t code;
    PPCODE:
        BEGIN_METHOD(ix ? NZK_METHOD_REMOVE_ALL_WATCHES : NZK_METHOD_REMOVE_WATCHES);
        {
            PATH_ARG(path);
            OPTIONS_FROM(2);
            core_check(aTHX_ nzk_options_check(opts));
            code = core_code(aTHX_ nzk_remove_watches(handle, path_ptr, path_len, opts));
        }
        LEAVE;
        RETURN_IF_SUBMITTED(code);
        RETURN_BOOL(code == NZK_RESULT_OK);

void
zerror(code)
        SV *code
    PROTOTYPE: $
    PPCODE:
        ST(0) = sv_2mortal(newSVpv(core_text(aTHX_ nzk_zerror((int64_t) SvIV(code))), 0));
        XSRETURN(1);

void
sync(zkh, path, ...)
        SV *zkh
        SV *path
    PROTOTYPE: $$;@
    PREINIT:
        NzkHandle *handle;
        NzkOptions *opts;
        int32_t code;
    PPCODE:
        BEGIN_METHOD(NZK_METHOD_SYNC);
        {
            PATH_ARG(path);
            OPTIONS_FROM(2);
            code = core_code(aTHX_ nzk_sync(handle, path_ptr, path_len, opts));
        }
        LEAVE;
        RETURN_IF_SUBMITTED(code);
        RETURN_BOOL(code == NZK_RESULT_OK);

void
get_ephemerals(zkh, prefix = NULL, ...)
        SV *zkh
        SV *prefix
    PROTOTYPE: $;$@
    PREINIT:
        NzkHandle *handle;
        NzkOptions *opts;
        int32_t code;
        AV *paths;
    PPCODE:
        BEGIN_METHOD(NZK_METHOD_GET_EPHEMERALS);
        paths = (AV *) sv_2mortal((SV *) newAV());
        {
            STRLEN prefix_len = 1;
            const uint8_t *prefix_ptr = (const uint8_t *) "/";
            if (prefix)
                prefix_ptr = (const uint8_t *) arg_bytes(aTHX_ prefix, &prefix_len);
            if (items > 2)
                OPTIONS_FROM(2);
            code = core_code(aTHX_ nzk_get_ephemerals(handle, prefix_ptr, prefix_len, opts, paths, sink_array));
        }
        LEAVE;
        RETURN_IF_SUBMITTED(code);
        RETURN_LIST(paths, code == NZK_RESULT_OK);

void
get_all_children_number(zkh, path, ...)
        SV *zkh
        SV *path
    PROTOTYPE: $$;@
    PREINIT:
        NzkHandle *handle;
        NzkOptions *opts;
        int32_t code;
        uint64_t count = 0;
    PPCODE:
        BEGIN_METHOD(NZK_METHOD_GET_ALL_CHILDREN_NUMBER);
        {
            PATH_ARG(path);
            OPTIONS_FROM(2);
            code = core_code(aTHX_ nzk_get_all_children_number(handle, path_ptr, path_len, opts, &count));
        }
        LEAVE;
        RETURN_IF_SUBMITTED(code);
        if (code != NZK_RESULT_OK)
            XSRETURN_UNDEF;
        ST(0) = sv_2mortal(newSVuv((UV) count));
        XSRETURN(1);

void
whoami(zkh, ...)
        SV *zkh
    PROTOTYPE: $;@
    PREINIT:
        NzkHandle *handle;
        NzkOptions *opts;
        int32_t code;
        AV *ids;
    PPCODE:
        BEGIN_METHOD(NZK_METHOD_WHOAMI);
        OPTIONS_FROM(1);
        ids = (AV *) sv_2mortal((SV *) newAV());
        code = core_code(aTHX_ nzk_whoami(handle, opts, ids, sink_identity));
        LEAVE;
        RETURN_IF_SUBMITTED(code);
        RETURN_LIST(ids, code == NZK_RESULT_OK);

void
get_config(zkh, ...)
        SV *zkh
    PROTOTYPE: $;@
    PREINIT:
        NzkHandle *handle;
        NzkOptions *opts;
        SV *data = NULL;
        int32_t code;
    PPCODE:
        BEGIN_METHOD(NZK_METHOD_GET_CONFIG);
        OPTIONS_FROM(1);
        code = core_code(aTHX_ nzk_get_config(handle, opts, &data, sink_scalar));
        LEAVE;
        RETURN_IF_SUBMITTED(code);
        ST(0) = data ? sv_2mortal(data) : &PL_sv_undef;
        XSRETURN(1);

void
state(zkh)
        SV *zkh
    PROTOTYPE: $
    PREINIT:
        NzkHandle *handle;
        int32_t state;
    PPCODE:
        check_object(aTHX_ zkh, "zkh", NZK_CLASS_HANDLE);
        handle = begin_call(aTHX_ zkh, 0);
        state = core_code(aTHX_ nzk_handle_state(handle));
        LEAVE;
        mXPUSHi(state);

void
fd(zkh)
        SV *zkh
    PROTOTYPE: $
    PREINIT:
        NzkHandle *handle;
        int fd = -1;
        int32_t err;
    PPCODE:
        check_object(aTHX_ zkh, "zkh", NZK_CLASS_HANDLE);
        handle = begin_call(aTHX_ zkh, 0);
        err = core_code(aTHX_ nzk_dispatch_fd(handle, &fd));
        LEAVE;
        if (err) {
            errno = err;
            XSRETURN_UNDEF;
        }
        mXPUSHi(fd);

void
dispatch(zkh, ...)
        SV *zkh
    PROTOTYPE: $;@
    PREINIT:
        NzkHandle *handle;
        NzkOptions *opts;
        NzkDispatchWaiter *waiter;
        NzkWaitStep step;
        UV count;
    PPCODE:
        handle = begin_method(aTHX_ &ST(0), items, NZK_METHOD_DISPATCH, &opts);
        OPTIONS_FROM(1);
        waiter = (NzkDispatchWaiter *) core_ptr(aTHX_ nzk_dispatch_waiter_new(handle, opts));
        SAVEDESTRUCTOR(free_dispatch_waiter, waiter);
        /* Short steps, so that Perl runs signal handlers in between. */
        while ((step = nzk_dispatch_waiter_step(waiter)) == NZK_WAIT_STEP_PENDING)
            PERL_ASYNC_CHECK();
        if (step == NZK_WAIT_STEP_PANIC)
            croak_panic(aTHX);
        count = run_callbacks(aTHX_ handle);
        LEAVE;
        mXPUSHu(count);

void
pending_callbacks(zkh)
        SV *zkh
    PROTOTYPE: $
    PREINIT:
        NzkHandle *handle;
        size_t count = 0;
    PPCODE:
        check_object(aTHX_ zkh, "zkh", NZK_CLASS_HANDLE);
        handle = begin_call(aTHX_ zkh, 0);
        core_code(aTHX_ nzk_dispatch_pending(handle, &count));
        LEAVE;
        mXPUSHu((UV) count);

void
_async_calls()
    PROTOTYPE:
    PREINIT:
        AV *names;
    PPCODE:
        names = (AV *) sv_2mortal((SV *) newAV());
        core_code(aTHX_ nzk_async_calls(names, sink_array));
        PUSH_ARRAY(names);

void
set_deterministic_conn_order(flag)
        SV *flag
    PROTOTYPE: $
    PPCODE:
        core_code(aTHX_ nzk_set_deterministic_conn_order(SvTRUE(flag)));
        XSRETURN_EMPTY;

void
CLONE(package)
        SV *package
    PROTOTYPE: $
    ALIAS:
        Net::ZooKeeper::Stat::CLONE = 1
        Net::ZooKeeper::Watch::CLONE = 2
    PPCODE:
        PERL_UNUSED_VAR(package);
        PERL_UNUSED_VAR(ix);
        XSRETURN_EMPTY;

void
CLONE_SKIP(package)
        SV *package
    PROTOTYPE: $
    ALIAS:
        Net::ZooKeeper::Stat::CLONE_SKIP = 1
        Net::ZooKeeper::Watch::CLONE_SKIP = 2
    PPCODE:
        /* Objects in a new ithread become references to undef: each thread opens
         * its own handles. */
        PERL_UNUSED_VAR(package);
        PERL_UNUSED_VAR(ix);
        XSRETURN_YES;

void
TIEHASH(package, ...)
        SV *package
    PROTOTYPE: $;@
    ALIAS:
        Net::ZooKeeper::Stat::TIEHASH = 1
        Net::ZooKeeper::Watch::TIEHASH = 2
    PPCODE:
        PERL_UNUSED_VAR(package);
        croak_message(aTHX_ NZK_MESSAGE_TIE_NOT_SUPPORTED, (NzkClass) ix);

void
UNTIE(attr_hash, ref_count)
        SV *attr_hash
        SV *ref_count
    PROTOTYPE: $$
    ALIAS:
        Net::ZooKeeper::Stat::UNTIE = 1
        Net::ZooKeeper::Watch::UNTIE = 2
    PPCODE:
        PERL_UNUSED_VAR(ref_count);
        check_object(aTHX_ attr_hash, "attr_hash", (NzkClass) ix);
        croak_message(aTHX_ NZK_MESSAGE_UNTIE_NOT_SUPPORTED, (NzkClass) ix);

void
FIRSTKEY(attr_hash)
        SV *attr_hash
    PROTOTYPE: $
    ALIAS:
        Net::ZooKeeper::Stat::FIRSTKEY = 1
        Net::ZooKeeper::Watch::FIRSTKEY = 2
    PREINIT:
        int32_t len;
        const uint8_t *key;
    PPCODE:
        (void) tie_state(aTHX_ attr_hash, (NzkClass) ix, 0);
        len = core_code(aTHX_ nzk_attr_key((NzkClass) ix, 0, &key));
        mXPUSHp((const char *) key, len);

void
NEXTKEY(attr_hash, attr_key)
        SV *attr_hash
        SV *attr_key
    PROTOTYPE: $$
    ALIAS:
        Net::ZooKeeper::Stat::NEXTKEY = 1
        Net::ZooKeeper::Watch::NEXTKEY = 2
    PREINIT:
        STRLEN klen;
        const char *k;
        int32_t len = -1;
        const uint8_t *key;
        int32_t index;
        NzkAccess access;
    PPCODE:
        (void) tie_state(aTHX_ attr_hash, (NzkClass) ix, 0);
        k = SvPV(attr_key, klen);
        index = core_code(aTHX_ nzk_attr_index((NzkClass) ix, (const uint8_t *) k, klen, &access));
        if (index >= 0)
            len = core_code(aTHX_ nzk_attr_key((NzkClass) ix, index + 1, &key));
        if (len < 0)
            XSRETURN_EMPTY;
        mXPUSHp((const char *) key, len);

void
SCALAR(attr_hash)
        SV *attr_hash
    PROTOTYPE: $
    ALIAS:
        Net::ZooKeeper::Stat::SCALAR = 1
        Net::ZooKeeper::Watch::SCALAR = 2
    PPCODE:
        check_object(aTHX_ attr_hash, "attr_hash", (NzkClass) ix);
        XSRETURN_YES;

void
FETCH(attr_hash, attr_key)
        SV *attr_hash
        SV *attr_key
    PROTOTYPE: $$
    ALIAS:
        Net::ZooKeeper::Stat::FETCH = 1
        Net::ZooKeeper::Watch::FETCH = 2
    PREINIT:
        void *obj;
        STRLEN klen;
        const char *k;
        int32_t index;
        NzkAccess access;
        NzkValue value;
    PPCODE:
        obj = tie_state(aTHX_ attr_hash, (NzkClass) ix, 1);
        k = SvPV(attr_key, klen);
        index = core_code(aTHX_ nzk_attr_index((NzkClass) ix, (const uint8_t *) k, klen, &access));
        if (index < 0) {
            LEAVE;
            warn_message(aTHX_ nzk_message_element((NzkClass) ix, (const uint8_t *) k, klen));
            XSRETURN_UNDEF;
        }
        core_code(aTHX_ nzk_attr_fetch((NzkClass) ix, obj, index, &value));
        ST(0) = sv_2mortal(value_sv(aTHX_ &value));
        LEAVE;
        XSRETURN(1);

void
STORE(attr_hash, attr_key, attr_val)
        SV *attr_hash
        SV *attr_key
        SV *attr_val
    PROTOTYPE: $$$
    ALIAS:
        Net::ZooKeeper::Stat::STORE = 1
        Net::ZooKeeper::Watch::STORE = 2
    PREINIT:
        void *obj;
        STRLEN klen;
        const char *k;
        const char *msg = NULL;
        int32_t index;
        NzkAccess access;
    PPCODE:
        hold_args(aTHX_ &ST(0), items);
        obj = tie_state(aTHX_ attr_hash, (NzkClass) ix, 1);
        k = SvPV(attr_key, klen);
        index = core_code(aTHX_ nzk_attr_index((NzkClass) ix, (const uint8_t *) k, klen, &access));
        if (index < 0 || access == NZK_ACCESS_READ_ONLY) {
            LEAVE;
            warn_message(aTHX_ nzk_message_element((NzkClass) ix, (const uint8_t *) k, klen));
            XSRETURN_EMPTY;
        }
        {
            int64_t iv = access == NZK_ACCESS_INT ? (int64_t) SvIV(attr_val) : 0;
            uint64_t uv = access == NZK_ACCESS_UINT ? (uint64_t) SvUV(attr_val) : 0;
            msg = nzk_attr_store((NzkClass) ix, obj, index, iv, uv);
        }
        LEAVE;
        core_check(aTHX_ msg);
        XSRETURN_EMPTY;

void
EXISTS(attr_hash, attr_key)
        SV *attr_hash
        SV *attr_key
    PROTOTYPE: $$
    ALIAS:
        Net::ZooKeeper::Stat::EXISTS = 1
        Net::ZooKeeper::Watch::EXISTS = 2
    PREINIT:
        STRLEN klen;
        const char *k;
        NzkAccess access;
    PPCODE:
        (void) tie_state(aTHX_ attr_hash, (NzkClass) ix, 0);
        k = SvPV(attr_key, klen);
        RETURN_BOOL(core_code(aTHX_ nzk_attr_index((NzkClass) ix, (const uint8_t *) k, klen, &access)) >= 0);

void
DELETE(attr_hash, attr_key)
        SV *attr_hash
        SV *attr_key
    PROTOTYPE: $$
    ALIAS:
        Net::ZooKeeper::Stat::DELETE = 1
        Net::ZooKeeper::Watch::DELETE = 2
    PPCODE:
        PERL_UNUSED_VAR(attr_key);
        check_object(aTHX_ attr_hash, "attr_hash", (NzkClass) ix);
        warn_message(aTHX_ nzk_message(NZK_MESSAGE_DELETE_NOT_SUPPORTED, (NzkClass) ix));
        XSRETURN_EMPTY;

void
CLEAR(attr_hash)
        SV *attr_hash
    PROTOTYPE: $
    ALIAS:
        Net::ZooKeeper::Stat::CLEAR = 1
        Net::ZooKeeper::Watch::CLEAR = 2
    PPCODE:
        check_object(aTHX_ attr_hash, "attr_hash", (NzkClass) ix);
        warn_message(aTHX_ nzk_message(NZK_MESSAGE_CLEAR_NOT_SUPPORTED, (NzkClass) ix));
        XSRETURN_EMPTY;

void
_constants()
    PROTOTYPE:
    PREINIT:
        NzkConstant c;
        size_t i;
        AV *row;
        AV *entries;
    PPCODE:
        /* The core's constants table, one [package, tag, name, value, added] per
         * row: tag undef when not exported, '' when exportable by name only; an ACL's
         * value is an array of { perms, scheme, id } hashes; added true for a tag
         * added since the original. Mortal until pushed, so a croak frees them. */
        for (i = 0; core_code(aTHX_ nzk_constant(i, &c)) == 1; i++) {
            row = (AV *) sv_2mortal((SV *) newAV());
            av_push(row, newSVpvn((const char *) c.package, c.package_len));
            av_push(row, c.exported == NZK_EXPORT_NONE ? newSV(0) : newSVpvn((const char *) c.tag, c.tag_len));
            av_push(row, newSVpvn((const char *) c.name, c.name_len));
            if (c.kind == NZK_CONSTANT_KIND_ACL) {
                entries = (AV *) sv_2mortal((SV *) newAV());
                core_code(aTHX_ nzk_constant_acl(i, sink_acl, entries));
                av_push(row, newRV_inc((SV *) entries));
            }
            else
                av_push(row, newSViv((IV) c.value));
            av_push(row, newSViv(c.exported == NZK_EXPORT_ADDED));
            XPUSHs(sv_2mortal(newRV_inc((SV *) row)));
        }

void
_panic_probe(kind)
        const char *kind
    PROTOTYPE: $
    PPCODE:
        /* t/04_panic.t: a panic in the core croaks, whatever the kind of result. */
        if (strEQ(kind, "code"))
            (void) core_code(aTHX_ nzk_probe_code());
        else if (strEQ(kind, "message"))
            core_check(aTHX_ nzk_probe_message());
        else if (strEQ(kind, "text"))
            (void) core_text(aTHX_ nzk_probe_text());
        else if (strEQ(kind, "object"))
            (void) core_ptr(aTHX_ nzk_probe_object());
        else if (strEQ(kind, "option") && nzk_probe_option() == NZK_OPTION_PANIC)
            croak_panic(aTHX);
        XSRETURN_EMPTY;


MODULE = Net::ZooKeeper  PACKAGE = Net::ZooKeeper::Stat

void
DESTROY(zksh)
        SV *zksh
    PROTOTYPE: $
    PREINIT:
        int ok;
    PPCODE:
        check_object(aTHX_ zksh, "zksh", NZK_CLASS_STAT);
        ok = destroy_object(aTHX_ zksh, NZK_CLASS_STAT);
        if (GIMME_V == G_VOID)
            XSRETURN_EMPTY;
        RETURN_BOOL(ok);


MODULE = Net::ZooKeeper  PACKAGE = Net::ZooKeeper::Watch

void
DESTROY(zkwh)
        SV *zkwh
    PROTOTYPE: $
    PREINIT:
        int ok;
    PPCODE:
        check_object(aTHX_ zkwh, "zkwh", NZK_CLASS_WATCH);
        ok = destroy_object(aTHX_ zkwh, NZK_CLASS_WATCH);
        if (GIMME_V == G_VOID)
            XSRETURN_EMPTY;
        RETURN_BOOL(ok);

void
wait(zkwh, ...)
        SV *zkwh
    PROTOTYPE: $;@
    PREINIT:
        NzkWatch *watch;
        NzkOptions *opts;
        NzkWaiter *waiter;
        NzkWaitStep step;
        int saved_errno = errno;
    PPCODE:
        hold_args(aTHX_ &ST(0), items);
        (void) wait_target(aTHX_ zkwh);
        ENTER;
        opts = new_options(aTHX_ NZK_METHOD_WAIT);
        OPTIONS_FROM(1);
        /* Perl code run from here on (converting the options, signal handlers between
         * steps) can point zkwh at another watch, or give the watch to another call:
         * wait() waits for the current assignment of the watch zkwh names, taken
         * afresh after any Perl code ran, so its result agrees with $w->{event}. */
        watch = wait_target(aTHX_ zkwh);
        waiter = (NzkWaiter *) core_ptr(aTHX_ nzk_waiter_new(watch, opts));
        /* Wait in short steps and let Perl run signal handlers in between; a handler
         * that dies leaves through LEAVE, which frees the waiter. */
        SAVEDESTRUCTOR(free_waiter, waiter);
        while ((step = nzk_waiter_step(waiter)) == NZK_WAIT_STEP_PENDING) {
            PERL_ASYNC_CHECK();
            core_code(aTHX_ nzk_waiter_follow(waiter, wait_target(aTHX_ zkwh)));
        }
        LEAVE;
        if (step == NZK_WAIT_STEP_PANIC)
            croak_panic(aTHX);
        /* Timed waits set errno (ETIMEDOUT); the original's left $! alone. */
        errno = saved_errno;
        RETURN_BOOL(step == NZK_WAIT_STEP_FIRED);


MODULE = Net::ZooKeeper  PACKAGE = Net::ZooKeeper::Cluster

PROTOTYPES: DISABLE

int
_define(name, hosts, recv_timeout)
        SV *name
        SV *hosts
        IV recv_timeout
    PREINIT:
        STRLEN nlen, hlen;
        const char *n, *h;
    CODE:
        n = arg_bytes(aTHX_ name, &nlen);
        h = SvPV(hosts, hlen);
        RETVAL = core_code(aTHX_ nzk_cluster_define((const uint8_t *) n, nlen, (const uint8_t *) h, hlen, (int64_t) recv_timeout));
    OUTPUT:
        RETVAL

int
_check_hosts(hosts)
        SV *hosts
    PREINIT:
        STRLEN hlen;
        const char *h;
    CODE:
        h = SvPV(hosts, hlen);
        RETVAL = core_code(aTHX_ nzk_hosts_check((const uint8_t *) h, hlen));
    OUTPUT:
        RETVAL

void
_lookup(name)
        SV *name
    PREINIT:
        STRLEN nlen;
        const char *n;
    PPCODE:
        n = SvPV(name, nlen);
        RETURN_BOOL(core_code(aTHX_ nzk_cluster_lookup((const uint8_t *) n, nlen)) == 1);

void
_acquire(name, wait)
        SV *name
        bool wait
    PREINIT:
        STRLEN nlen;
        const char *n;
        NzkLease *lease = NULL;
        int32_t status;
    PPCODE:
        n = SvPV(name, nlen);
        status = core_code(aTHX_ nzk_cluster_acquire((const uint8_t *) n, nlen, wait, &lease));
        mXPUSHi(status);
        if (lease)
            XPUSHs(sv_2mortal(make_lease(aTHX_ lease)));
        else
            XPUSHs(&PL_sv_undef);


MODULE = Net::ZooKeeper  PACKAGE = Net::ZooKeeper::Cluster::Connection

PROTOTYPES: DISABLE

void
_fetch(zk, key)
        SV *zk
        SV *key
    PREINIT:
        NzkLease *lease;
        STRLEN klen;
        const char *k;
        int32_t index;
        NzkAccess access;
        NzkValue value;
    PPCODE:
        lease = lease_arg(aTHX_ zk);
        k = SvPV(key, klen);
        index = core_code(aTHX_ nzk_attr_index(NZK_CLASS_LEASE, (const uint8_t *) k, klen, &access));
        if (index < 0)
            croak_text(core_text(aTHX_ nzk_message_element(NZK_CLASS_LEASE, (const uint8_t *) k, klen)));
        core_code(aTHX_ nzk_attr_fetch(NZK_CLASS_LEASE, lease, index, &value));
        ST(0) = sv_2mortal(value_sv(aTHX_ &value));
        XSRETURN(1);

SV *
handle(zk)
        SV *zk
    CODE:
        RETVAL = make_object(aTHX_ core_ptr(aTHX_ nzk_lease_handle(lease_arg(aTHX_ zk))), NZK_CLASS_HANDLE,
                             class_name(aTHX_ NZK_CLASS_HANDLE));
    OUTPUT:
        RETVAL

int
_release(zk)
        SV *zk
    CODE:
        RETVAL = core_code(aTHX_ nzk_lease_release(lease_arg(aTHX_ zk)));
    OUTPUT:
        RETVAL

int
_error(zk, ret)
        SV *zk
        int ret
    CODE:
        RETVAL = core_code(aTHX_ nzk_lease_error(lease_arg(aTHX_ zk), ret));
    OUTPUT:
        RETVAL

void
DESTROY(zk)
        SV *zk
    PPCODE:
        if (SvROK(zk) && our_magic(aTHX_ SvRV(zk), &lease_vtbl))
            sv_unmagicext(SvRV(zk), PERL_MAGIC_ext, &lease_vtbl);
        XSRETURN_EMPTY;

void
CLONE_SKIP(package)
        SV *package
    PPCODE:
        PERL_UNUSED_VAR(package);
        XSRETURN_YES;


MODULE = Net::ZooKeeper  PACKAGE = Net::ZooKeeper::PersistentWatch

PROTOTYPES: DISABLE

void
wait(pw, ...)
        SV *pw
    PREINIT:
        NzkOptions *opts;
        NzkEventWaiter *waiter;
        NzkWaitStep step;
        NzkEvent event;
        SV *result = NULL;
        int saved_errno = errno;
    PPCODE:
        hold_args(aTHX_ &ST(0), items);
        (void) persistent_arg(aTHX_ pw);
        ENTER;
        opts = new_options(aTHX_ NZK_METHOD_PERSISTENT_WAIT);
        OPTIONS_FROM(1);
        /* Converting the options can run Perl code that destroys the object: it is
         * taken again. The waiter holds the queue, so the object may go during the
         * wait (a signal handler); a handler that dies leaves through LEAVE, which
         * frees the waiter. */
        waiter = (NzkEventWaiter *) core_ptr(aTHX_ nzk_event_waiter_new(persistent_arg(aTHX_ pw), opts));
        SAVEDESTRUCTOR(free_event_waiter, waiter);
        while ((step = nzk_event_waiter_step(waiter, &event)) == NZK_WAIT_STEP_PENDING)
            PERL_ASYNC_CHECK();
        if (step == NZK_WAIT_STEP_FIRED)
            result = sv_2mortal(event_hash(aTHX_ &event));
        LEAVE;
        if (step == NZK_WAIT_STEP_PANIC)
            croak_panic(aTHX);
        errno = saved_errno;
        ST(0) = result ? result : &PL_sv_undef;
        XSRETURN(1);

void
pending(pw)
        SV *pw
    ALIAS:
        dropped = 1
    PREINIT:
        uint64_t pending = 0, dropped = 0;
    PPCODE:
        core_code(aTHX_ nzk_persistent_counts(persistent_arg(aTHX_ pw), &pending, &dropped));
        mXPUSHu((UV) (ix ? dropped : pending));

void
path(pw)
        SV *pw
    PREINIT:
        SV *path = NULL;
    PPCODE:
        core_code(aTHX_ nzk_persistent_path(persistent_arg(aTHX_ pw), &path, sink_scalar));
        ST(0) = sv_2mortal(path);
        XSRETURN(1);

void
mode(pw)
        SV *pw
    PPCODE:
        mXPUSHi(core_code(aTHX_ nzk_persistent_mode(persistent_arg(aTHX_ pw))));

void
remove(pw)
        SV *pw
    PPCODE:
        RETURN_BOOL(core_code(aTHX_ nzk_persistent_remove(persistent_arg(aTHX_ pw))) == NZK_RESULT_OK);

void
DESTROY(pw)
        SV *pw
    PREINIT:
        int ok = 0;
    PPCODE:
        if (SvROK(pw) && our_magic(aTHX_ SvRV(pw), &persistent_vtbl)) {
            sv_unmagicext(SvRV(pw), PERL_MAGIC_ext, &persistent_vtbl);
            ok = 1;
        }
        if (GIMME_V == G_VOID)
            XSRETURN_EMPTY;
        RETURN_BOOL(ok);

void
CLONE_SKIP(package)
        SV *package
    PPCODE:
        PERL_UNUSED_VAR(package);
        XSRETURN_YES;
