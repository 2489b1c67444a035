-- CreateTable
CREATE TABLE "console_chunk" (
    "attempt_id" UUID NOT NULL,
    "first_seq" INTEGER NOT NULL,
    "last_seq" INTEGER NOT NULL,
    "offsets_ms" INTEGER[],
    "text" TEXT NOT NULL,

    CONSTRAINT "console_chunk_pkey" PRIMARY KEY ("attempt_id","first_seq")
);

-- AddForeignKey
ALTER TABLE "console_chunk" ADD CONSTRAINT "console_chunk_attempt_id_fkey" FOREIGN KEY ("attempt_id") REFERENCES "attempt"("id") ON DELETE CASCADE ON UPDATE CASCADE;
