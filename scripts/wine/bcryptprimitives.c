/* bcryptprimitives.c - a stand-in for Windows' bcryptprimitives.dll under wine 8.
 *
 * Rust's standard library for Windows (since 1.78) imports ProcessPrng from
 * bcryptprimitives.dll at load time; wine 8 has no such DLL, so every Rust .exe
 * fails to start (exit 53, "Library bcryptprimitives.dll ... not found").
 * This DLL exports ProcessPrng and fills the buffer from advapi32's
 * SystemFunction036 (RtlGenRandom), which wine 8 implements.
 * scripts/wine-run builds it with mingw-w64 and puts it into the wine prefix.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    /* RtlGenRandom takes a ULONG length: feed large requests in chunks. */
    while (len > 0) {
        ULONG chunk = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
