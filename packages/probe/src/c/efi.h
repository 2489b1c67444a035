/*
 * Minimal UEFI definitions for the VMSPEC probe (AArch64 and 32-bit ARM).
 *
 * Written from the UEFI 2.x specification, not copied from gnu-efi or edk2:
 * only the types, tables and protocol members the probe uses. Layouts are
 * pinned by _Static_asserts below, because a wrong offset here means calling
 * the wrong firmware function.
 *
 * The compiler target is aarch64-unknown-windows (to get PE/COFF out of
 * clang + lld-link). That target is LLP64: `long` is 32 bits, so 64-bit types
 * are spelled `long long`. AArch64 UEFI uses the plain AAPCS64 calling
 * convention, so protocol members are ordinary function pointers (no EFIAPI
 * attribute is needed, unlike x86-64).
 *
 * For 32-bit ARM the target is thumbv7-unknown-windows (ILP32, AAPCS): UINTN
 * and pointers are 32 bits, and every argument the probe passes to firmware
 * is an integer or a pointer, so the calling convention is plain AAPCS too.
 */
#ifndef VMSPEC_PROBE_EFI_H
#define VMSPEC_PROBE_EFI_H

typedef unsigned char      UINT8;
typedef unsigned short     UINT16;
typedef short              INT16;
typedef unsigned int       UINT32;
typedef unsigned long long UINT64;
#if defined(__arm__)
typedef UINT32             UINTN;     /* native width: 32 bits on ARM */
#else
typedef UINT64             UINTN;     /* native width: 64 bits on AArch64 */
#endif
typedef UINT8              BOOLEAN;
typedef UINT16             CHAR16;    /* UCS-2, as UEFI strings are */
typedef void               VOID;

typedef UINTN  EFI_STATUS;
typedef VOID  *EFI_HANDLE;

/* Status codes: errors have the top bit of UINTN set (UEFI spec, Appendix D). */
#define EFI_ERROR_BIT           ((UINTN)1 << (sizeof(UINTN) * 8 - 1))
#define EFI_SUCCESS             ((UINTN)0)
#define EFI_LOAD_ERROR          (EFI_ERROR_BIT | 1)
#define EFI_INVALID_PARAMETER   (EFI_ERROR_BIT | 2)
#define EFI_UNSUPPORTED         (EFI_ERROR_BIT | 3)
#define EFI_DEVICE_ERROR        (EFI_ERROR_BIT | 7)
#define EFI_SECURITY_VIOLATION  (EFI_ERROR_BIT | 26)

typedef struct {
    UINT32 Data1;
    UINT16 Data2;
    UINT16 Data3;
    UINT8  Data4[8];
} EFI_GUID;

typedef struct {
    UINT64 Signature;
    UINT32 Revision;
    UINT32 HeaderSize;
    UINT32 CRC32;
    UINT32 Reserved;
} EFI_TABLE_HEADER;

#define EFI_SYSTEM_TABLE_SIGNATURE 0x5453595320494249ULL /* "IBI SYST" */

/* EFI_SIMPLE_TEXT_OUTPUT_PROTOCOL: only OutputString is called; the other
 * members are kept as opaque pointers so that the offsets stay right. */
typedef struct EFI_SIMPLE_TEXT_OUTPUT_PROTOCOL EFI_SIMPLE_TEXT_OUTPUT_PROTOCOL;
typedef EFI_STATUS (*EFI_TEXT_STRING)(EFI_SIMPLE_TEXT_OUTPUT_PROTOCOL *This,
                                      CHAR16 *String);
struct EFI_SIMPLE_TEXT_OUTPUT_PROTOCOL {
    VOID           *Reset;
    EFI_TEXT_STRING OutputString;
    VOID           *TestString;
    VOID           *QueryMode;
    VOID           *SetMode;
    VOID           *SetAttribute;
    VOID           *ClearScreen;
    VOID           *SetCursorPosition;
    VOID           *EnableCursor;
    VOID           *Mode;          /* SIMPLE_TEXT_OUTPUT_MODE * */
};

typedef struct {
    UINT16 Year;        /* 1900 - 9999 */
    UINT8  Month;       /* 1 - 12 */
    UINT8  Day;         /* 1 - 31 */
    UINT8  Hour;        /* 0 - 23 */
    UINT8  Minute;      /* 0 - 59 */
    UINT8  Second;      /* 0 - 59 */
    UINT8  Pad1;
    UINT32 Nanosecond;  /* 0 - 999,999,999 */
    INT16  TimeZone;    /* -1440 - 1440, or 2047 = EFI_UNSPECIFIED_TIMEZONE */
    UINT8  Daylight;
    UINT8  Pad2;
} EFI_TIME;

typedef struct {
    UINT32  Resolution;
    UINT32  Accuracy;
    BOOLEAN SetsToZero;
} EFI_TIME_CAPABILITIES;

/* EFI_RESET_TYPE is a C enum; UEFI enums are 32-bit, which is what AAPCS64
 * gives an int-ranged enum. */
typedef enum {
    EfiResetCold,
    EfiResetWarm,
    EfiResetShutdown,
    EfiResetPlatformSpecific
} EFI_RESET_TYPE;

typedef EFI_STATUS (*EFI_GET_TIME)(EFI_TIME *Time,
                                   EFI_TIME_CAPABILITIES *Capabilities);
typedef VOID (*EFI_RESET_SYSTEM)(EFI_RESET_TYPE ResetType,
                                 EFI_STATUS ResetStatus, UINTN DataSize,
                                 VOID *ResetData);

typedef struct {
    EFI_TABLE_HEADER Hdr;
    /* Time services */
    EFI_GET_TIME     GetTime;
    VOID            *SetTime;
    VOID            *GetWakeupTime;
    VOID            *SetWakeupTime;
    /* Virtual memory services */
    VOID            *SetVirtualAddressMap;
    VOID            *ConvertPointer;
    /* Variable services */
    VOID            *GetVariable;
    VOID            *GetNextVariableName;
    VOID            *SetVariable;
    /* Miscellaneous services */
    VOID            *GetNextHighMonotonicCount;
    EFI_RESET_SYSTEM ResetSystem;
    /* UEFI 2.0 capsule services */
    VOID            *UpdateCapsule;
    VOID            *QueryCapsuleCapabilities;
    /* UEFI 2.0 miscellaneous services */
    VOID            *QueryVariableInfo;
} EFI_RUNTIME_SERVICES;

typedef struct {
    EFI_GUID VendorGuid;
    VOID    *VendorTable;
} EFI_CONFIGURATION_TABLE;

typedef struct {
    EFI_TABLE_HEADER                 Hdr;
    CHAR16                          *FirmwareVendor;
    UINT32                           FirmwareRevision;
    EFI_HANDLE                       ConsoleInHandle;
    VOID                            *ConIn;   /* EFI_SIMPLE_TEXT_INPUT_PROTOCOL * */
    EFI_HANDLE                       ConsoleOutHandle;
    EFI_SIMPLE_TEXT_OUTPUT_PROTOCOL *ConOut;
    EFI_HANDLE                       StandardErrorHandle;
    EFI_SIMPLE_TEXT_OUTPUT_PROTOCOL *StdErr;
    EFI_RUNTIME_SERVICES            *RuntimeServices;
    VOID                            *BootServices; /* EFI_BOOT_SERVICES * (unused) */
    UINTN                            NumberOfTableEntries;
    EFI_CONFIGURATION_TABLE         *ConfigurationTable;
} EFI_SYSTEM_TABLE;

/* Configuration table GUIDs (UEFI spec §4.6, DT: EBBR / UEFI 2.x). */
#define EFI_ACPI_20_TABLE_GUID \
    { 0x8868e871, 0xe4f1, 0x11d3, { 0xbc, 0x22, 0x00, 0x80, 0xc7, 0x3c, 0x88, 0x81 } }
#define ACPI_10_TABLE_GUID \
    { 0xeb9d2d30, 0x2d88, 0x11d3, { 0x9a, 0x16, 0x00, 0x90, 0x27, 0x3f, 0xc1, 0x4d } }
#define SMBIOS_TABLE_GUID \
    { 0xeb9d2d31, 0x2d88, 0x11d3, { 0x9a, 0x16, 0x00, 0x90, 0x27, 0x3f, 0xc1, 0x4d } }
#define SMBIOS3_TABLE_GUID \
    { 0xf2fd1544, 0x9794, 0x4a2c, { 0x99, 0x2e, 0xe5, 0xbb, 0xcf, 0x20, 0xe3, 0x94 } }
#define EFI_DTB_TABLE_GUID \
    { 0xb1b621d5, 0xf19c, 0x41a5, { 0x83, 0x0b, 0xd9, 0x15, 0x2c, 0x69, 0xaa, 0xe0 } }

/* Pin the layouts (offsets from the UEFI spec for a 64-bit and a 32-bit UINTN). */
#define EFI_ASSERT_OFFSET(type, member, off) \
    _Static_assert(__builtin_offsetof(type, member) == (off), #type "." #member)

_Static_assert(sizeof(CHAR16) == 2, "CHAR16 must be 16-bit");
_Static_assert(sizeof(EFI_GUID) == 16, "EFI_GUID");
_Static_assert(sizeof(EFI_TABLE_HEADER) == 24, "EFI_TABLE_HEADER");
_Static_assert(sizeof(EFI_TIME) == 16, "EFI_TIME");
_Static_assert(sizeof(EFI_RESET_TYPE) == 4, "EFI_RESET_TYPE");
EFI_ASSERT_OFFSET(EFI_TIME, Nanosecond, 8);
EFI_ASSERT_OFFSET(EFI_TIME, TimeZone, 12);
#if defined(__arm__)
_Static_assert(sizeof(UINTN) == 4 && sizeof(VOID *) == 4, "UINTN must be 32-bit on ARM");
_Static_assert(sizeof(EFI_CONFIGURATION_TABLE) == 20, "EFI_CONFIGURATION_TABLE");
EFI_ASSERT_OFFSET(EFI_SIMPLE_TEXT_OUTPUT_PROTOCOL, OutputString, 4);
EFI_ASSERT_OFFSET(EFI_SIMPLE_TEXT_OUTPUT_PROTOCOL, Mode, 36);
EFI_ASSERT_OFFSET(EFI_RUNTIME_SERVICES, GetTime, 24);
EFI_ASSERT_OFFSET(EFI_RUNTIME_SERVICES, ResetSystem, 64);
EFI_ASSERT_OFFSET(EFI_RUNTIME_SERVICES, QueryVariableInfo, 76);
EFI_ASSERT_OFFSET(EFI_SYSTEM_TABLE, FirmwareVendor, 24);
EFI_ASSERT_OFFSET(EFI_SYSTEM_TABLE, FirmwareRevision, 28);
EFI_ASSERT_OFFSET(EFI_SYSTEM_TABLE, ConOut, 44);
EFI_ASSERT_OFFSET(EFI_SYSTEM_TABLE, RuntimeServices, 56);
EFI_ASSERT_OFFSET(EFI_SYSTEM_TABLE, NumberOfTableEntries, 64);
EFI_ASSERT_OFFSET(EFI_SYSTEM_TABLE, ConfigurationTable, 68);
_Static_assert(sizeof(EFI_SYSTEM_TABLE) == 72, "EFI_SYSTEM_TABLE");
#else
_Static_assert(sizeof(UINTN) == 8, "UINTN must be 64-bit on AArch64");
_Static_assert(sizeof(EFI_CONFIGURATION_TABLE) == 24, "EFI_CONFIGURATION_TABLE");
EFI_ASSERT_OFFSET(EFI_SIMPLE_TEXT_OUTPUT_PROTOCOL, OutputString, 8);
EFI_ASSERT_OFFSET(EFI_SIMPLE_TEXT_OUTPUT_PROTOCOL, Mode, 72);
EFI_ASSERT_OFFSET(EFI_RUNTIME_SERVICES, GetTime, 24);
EFI_ASSERT_OFFSET(EFI_RUNTIME_SERVICES, ResetSystem, 104);
EFI_ASSERT_OFFSET(EFI_RUNTIME_SERVICES, QueryVariableInfo, 128);
EFI_ASSERT_OFFSET(EFI_SYSTEM_TABLE, FirmwareVendor, 24);
EFI_ASSERT_OFFSET(EFI_SYSTEM_TABLE, FirmwareRevision, 32);
EFI_ASSERT_OFFSET(EFI_SYSTEM_TABLE, ConOut, 64);
EFI_ASSERT_OFFSET(EFI_SYSTEM_TABLE, RuntimeServices, 88);
EFI_ASSERT_OFFSET(EFI_SYSTEM_TABLE, NumberOfTableEntries, 104);
EFI_ASSERT_OFFSET(EFI_SYSTEM_TABLE, ConfigurationTable, 112);
_Static_assert(sizeof(EFI_SYSTEM_TABLE) == 120, "EFI_SYSTEM_TABLE");
#endif

#endif /* VMSPEC_PROBE_EFI_H */
