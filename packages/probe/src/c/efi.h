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
#define EFI_BUFFER_TOO_SMALL    (EFI_ERROR_BIT | 5)
#define EFI_DEVICE_ERROR        (EFI_ERROR_BIT | 7)
#define EFI_WRITE_PROTECTED     (EFI_ERROR_BIT | 8)
#define EFI_OUT_OF_RESOURCES    (EFI_ERROR_BIT | 9)
#define EFI_NOT_FOUND           (EFI_ERROR_BIT | 14)
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
typedef EFI_STATUS (*EFI_SET_TIME)(EFI_TIME *Time);
typedef EFI_STATUS (*EFI_GET_WAKEUP_TIME)(BOOLEAN *Enabled, BOOLEAN *Pending,
                                          EFI_TIME *Time);
typedef EFI_STATUS (*EFI_GET_VARIABLE)(CHAR16 *VariableName,
                                       EFI_GUID *VendorGuid,
                                       UINT32 *Attributes, UINTN *DataSize,
                                       VOID *Data);
typedef EFI_STATUS (*EFI_GET_NEXT_VARIABLE_NAME)(UINTN *VariableNameSize,
                                                 CHAR16 *VariableName,
                                                 EFI_GUID *VendorGuid);
typedef EFI_STATUS (*EFI_SET_VARIABLE)(CHAR16 *VariableName,
                                       EFI_GUID *VendorGuid,
                                       UINT32 Attributes, UINTN DataSize,
                                       VOID *Data);
typedef EFI_STATUS (*EFI_GET_NEXT_HIGH_MONO_COUNT)(UINT32 *HighCount);
typedef VOID (*EFI_RESET_SYSTEM)(EFI_RESET_TYPE ResetType,
                                 EFI_STATUS ResetStatus, UINTN DataSize,
                                 VOID *ResetData);
typedef EFI_STATUS (*EFI_QUERY_VARIABLE_INFO)(UINT32 Attributes,
                                              UINT64 *MaximumVariableStorageSize,
                                              UINT64 *RemainingVariableStorageSize,
                                              UINT64 *MaximumVariableSize);

#define EFI_VARIABLE_NON_VOLATILE       0x1U
#define EFI_VARIABLE_BOOTSERVICE_ACCESS 0x2U
#define EFI_VARIABLE_RUNTIME_ACCESS     0x4U

typedef struct {
    EFI_TABLE_HEADER Hdr;
    /* Time services */
    EFI_GET_TIME     GetTime;
    EFI_SET_TIME     SetTime;
    EFI_GET_WAKEUP_TIME GetWakeupTime;
    VOID            *SetWakeupTime;
    /* Virtual memory services */
    VOID            *SetVirtualAddressMap;
    VOID            *ConvertPointer;
    /* Variable services */
    EFI_GET_VARIABLE GetVariable;
    EFI_GET_NEXT_VARIABLE_NAME GetNextVariableName;
    EFI_SET_VARIABLE SetVariable;
    /* Miscellaneous services */
    EFI_GET_NEXT_HIGH_MONO_COUNT GetNextHighMonotonicCount;
    EFI_RESET_SYSTEM ResetSystem;
    /* UEFI 2.0 capsule services */
    VOID            *UpdateCapsule;
    VOID            *QueryCapsuleCapabilities;
    /* UEFI 2.0 miscellaneous services */
    EFI_QUERY_VARIABLE_INFO QueryVariableInfo;
} EFI_RUNTIME_SERVICES;

/* EFI_MEMORY_DESCRIPTOR (UEFI §7.2). Firmware may use a larger
 * DescriptorSize: always step by the size GetMemoryMap returns. */
typedef struct {
    UINT32 Type;
    UINT32 Pad;
    UINT64 PhysicalStart;
    UINT64 VirtualStart;
    UINT64 NumberOfPages;
    UINT64 Attribute;
} EFI_MEMORY_DESCRIPTOR;

/* EFI_MEMORY_TYPE values the probe counts as RAM. */
#define EfiLoaderCode          1
#define EfiLoaderData          2
#define EfiBootServicesCode    3
#define EfiBootServicesData    4
#define EfiRuntimeServicesCode 5
#define EfiRuntimeServicesData 6
#define EfiConventionalMemory  7
#define EfiACPIReclaimMemory   9
#define EfiACPIMemoryNVS       10

typedef EFI_STATUS (*EFI_GET_MEMORY_MAP)(UINTN *MemoryMapSize,
                                         EFI_MEMORY_DESCRIPTOR *MemoryMap,
                                         UINTN *MapKey, UINTN *DescriptorSize,
                                         UINT32 *DescriptorVersion);
typedef EFI_STATUS (*EFI_ALLOCATE_POOL)(UINT32 PoolType, UINTN Size,
                                        VOID **Buffer);
typedef EFI_STATUS (*EFI_FREE_POOL)(VOID *Buffer);
typedef EFI_STATUS (*EFI_STALL)(UINTN Microseconds);

/* EFI_BOOT_SERVICES (UEFI §4.4): 44 function pointers after the header.
 * Only the ones called are typed; the others keep the offsets right. */
typedef struct {
    EFI_TABLE_HEADER   Hdr;
    /* Task priority services */
    VOID              *RaiseTPL;
    VOID              *RestoreTPL;
    /* Memory services */
    VOID              *AllocatePages;
    VOID              *FreePages;
    EFI_GET_MEMORY_MAP GetMemoryMap;
    EFI_ALLOCATE_POOL  AllocatePool;
    EFI_FREE_POOL      FreePool;
    /* Event and timer services */
    VOID              *CreateEvent;
    VOID              *SetTimer;
    VOID              *WaitForEvent;
    VOID              *SignalEvent;
    VOID              *CloseEvent;
    VOID              *CheckEvent;
    /* Protocol handler services */
    VOID              *InstallProtocolInterface;
    VOID              *ReinstallProtocolInterface;
    VOID              *UninstallProtocolInterface;
    VOID              *HandleProtocol;
    VOID              *Reserved;
    VOID              *RegisterProtocolNotify;
    VOID              *LocateHandle;
    VOID              *LocateDevicePath;
    VOID              *InstallConfigurationTable;
    /* Image services */
    VOID              *LoadImage;
    VOID              *StartImage;
    VOID              *Exit;
    VOID              *UnloadImage;
    VOID              *ExitBootServices;
    /* Miscellaneous services */
    VOID              *GetNextMonotonicCount;
    EFI_STALL          Stall;
    VOID              *SetWatchdogTimer;
    /* DriverSupport services */
    VOID              *ConnectController;
    VOID              *DisconnectController;
    /* Open and close protocol services */
    VOID              *OpenProtocol;
    VOID              *CloseProtocol;
    VOID              *OpenProtocolInformation;
    /* Library services */
    VOID              *ProtocolsPerHandle;
    VOID              *LocateHandleBuffer;
    VOID              *LocateProtocol;
    VOID              *InstallMultipleProtocolInterfaces;
    VOID              *UninstallMultipleProtocolInterfaces;
    /* 32-bit CRC services */
    VOID              *CalculateCrc32;
    /* Miscellaneous services */
    VOID              *CopyMem;
    VOID              *SetMem;
    VOID              *CreateEventEx;
} EFI_BOOT_SERVICES;

/* EFI_RT_PROPERTIES_TABLE (UEFI 2.8 §4.6.2). */
typedef struct {
    UINT16 Version;
    UINT16 Length;
    UINT32 RuntimeServicesSupported;
} EFI_RT_PROPERTIES_TABLE;

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
    EFI_BOOT_SERVICES               *BootServices;
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
/* The probe's own variable vendor GUID (PROTOCOL.md). */
#define VMSPEC_PROBE_VAR_GUID \
    { 0xb0075fa4, 0x4b1d, 0x4c1e, { 0x9a, 0x3e, 0x7f, 0x6d, 0x5e, 0x4c, 0x3b, 0x2a } }
#define EFI_RT_PROPERTIES_TABLE_GUID \
    { 0xeb66918a, 0x7eef, 0x402a, { 0x84, 0x2e, 0x93, 0x1d, 0x21, 0xc3, 0x8a, 0xe9 } }

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
_Static_assert(sizeof(EFI_MEMORY_DESCRIPTOR) == 40, "EFI_MEMORY_DESCRIPTOR");
EFI_ASSERT_OFFSET(EFI_MEMORY_DESCRIPTOR, PhysicalStart, 8);
EFI_ASSERT_OFFSET(EFI_MEMORY_DESCRIPTOR, NumberOfPages, 24);
_Static_assert(sizeof(EFI_RT_PROPERTIES_TABLE) == 8, "EFI_RT_PROPERTIES_TABLE");
#if defined(__arm__)
_Static_assert(sizeof(UINTN) == 4 && sizeof(VOID *) == 4, "UINTN must be 32-bit on ARM");
_Static_assert(sizeof(EFI_CONFIGURATION_TABLE) == 20, "EFI_CONFIGURATION_TABLE");
EFI_ASSERT_OFFSET(EFI_SIMPLE_TEXT_OUTPUT_PROTOCOL, OutputString, 4);
EFI_ASSERT_OFFSET(EFI_SIMPLE_TEXT_OUTPUT_PROTOCOL, Mode, 36);
EFI_ASSERT_OFFSET(EFI_RUNTIME_SERVICES, GetTime, 24);
EFI_ASSERT_OFFSET(EFI_RUNTIME_SERVICES, ResetSystem, 64);
EFI_ASSERT_OFFSET(EFI_RUNTIME_SERVICES, SetTime, 28);
EFI_ASSERT_OFFSET(EFI_RUNTIME_SERVICES, GetWakeupTime, 32);
EFI_ASSERT_OFFSET(EFI_RUNTIME_SERVICES, GetVariable, 48);
EFI_ASSERT_OFFSET(EFI_RUNTIME_SERVICES, GetNextVariableName, 52);
EFI_ASSERT_OFFSET(EFI_RUNTIME_SERVICES, SetVariable, 56);
EFI_ASSERT_OFFSET(EFI_RUNTIME_SERVICES, GetNextHighMonotonicCount, 60);
EFI_ASSERT_OFFSET(EFI_RUNTIME_SERVICES, QueryVariableInfo, 76);
EFI_ASSERT_OFFSET(EFI_BOOT_SERVICES, RaiseTPL, 24);
EFI_ASSERT_OFFSET(EFI_BOOT_SERVICES, GetMemoryMap, 40);
EFI_ASSERT_OFFSET(EFI_BOOT_SERVICES, AllocatePool, 44);
EFI_ASSERT_OFFSET(EFI_BOOT_SERVICES, FreePool, 48);
EFI_ASSERT_OFFSET(EFI_BOOT_SERVICES, Stall, 136);
EFI_ASSERT_OFFSET(EFI_BOOT_SERVICES, CreateEventEx, 196);
_Static_assert(sizeof(EFI_BOOT_SERVICES) == 200, "EFI_BOOT_SERVICES");
EFI_ASSERT_OFFSET(EFI_SYSTEM_TABLE, BootServices, 60);
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
EFI_ASSERT_OFFSET(EFI_RUNTIME_SERVICES, SetTime, 32);
EFI_ASSERT_OFFSET(EFI_RUNTIME_SERVICES, GetWakeupTime, 40);
EFI_ASSERT_OFFSET(EFI_RUNTIME_SERVICES, GetVariable, 72);
EFI_ASSERT_OFFSET(EFI_RUNTIME_SERVICES, GetNextVariableName, 80);
EFI_ASSERT_OFFSET(EFI_RUNTIME_SERVICES, SetVariable, 88);
EFI_ASSERT_OFFSET(EFI_RUNTIME_SERVICES, GetNextHighMonotonicCount, 96);
EFI_ASSERT_OFFSET(EFI_RUNTIME_SERVICES, QueryVariableInfo, 128);
EFI_ASSERT_OFFSET(EFI_BOOT_SERVICES, RaiseTPL, 24);
EFI_ASSERT_OFFSET(EFI_BOOT_SERVICES, GetMemoryMap, 56);
EFI_ASSERT_OFFSET(EFI_BOOT_SERVICES, AllocatePool, 64);
EFI_ASSERT_OFFSET(EFI_BOOT_SERVICES, FreePool, 72);
EFI_ASSERT_OFFSET(EFI_BOOT_SERVICES, Stall, 248);
EFI_ASSERT_OFFSET(EFI_BOOT_SERVICES, CreateEventEx, 368);
_Static_assert(sizeof(EFI_BOOT_SERVICES) == 376, "EFI_BOOT_SERVICES");
EFI_ASSERT_OFFSET(EFI_SYSTEM_TABLE, BootServices, 96);
EFI_ASSERT_OFFSET(EFI_SYSTEM_TABLE, FirmwareVendor, 24);
EFI_ASSERT_OFFSET(EFI_SYSTEM_TABLE, FirmwareRevision, 32);
EFI_ASSERT_OFFSET(EFI_SYSTEM_TABLE, ConOut, 64);
EFI_ASSERT_OFFSET(EFI_SYSTEM_TABLE, RuntimeServices, 88);
EFI_ASSERT_OFFSET(EFI_SYSTEM_TABLE, NumberOfTableEntries, 104);
EFI_ASSERT_OFFSET(EFI_SYSTEM_TABLE, ConfigurationTable, 112);
_Static_assert(sizeof(EFI_SYSTEM_TABLE) == 120, "EFI_SYSTEM_TABLE");
#endif

#endif /* VMSPEC_PROBE_EFI_H */
