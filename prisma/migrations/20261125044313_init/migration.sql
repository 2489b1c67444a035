-- CreateTable
CREATE TABLE "vendor" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "vendor_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "image" (
    "id" UUID NOT NULL,
    "vendor_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "format" TEXT NOT NULL,
    "sha256" CHAR(64) NOT NULL,
    "size_bytes" BIGINT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "image_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "run" (
    "id" UUID NOT NULL,
    "vendor_id" UUID NOT NULL,
    "image_id" UUID NOT NULL,
    "status" TEXT NOT NULL,
    "trigger" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMP(3),

    CONSTRAINT "run_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "cell" (
    "id" UUID NOT NULL,
    "run_id" UUID NOT NULL,
    "key" TEXT NOT NULL,
    "backend" TEXT NOT NULL,
    "profile" JSONB NOT NULL,
    "status" TEXT NOT NULL,
    "timeout_ms" INTEGER NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMP(3),
    "finished_at" TIMESTAMP(3),

    CONSTRAINT "cell_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "attempt" (
    "id" UUID NOT NULL,
    "cell_id" UUID NOT NULL,
    "number" INTEGER NOT NULL,
    "worker_id" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "started_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMP(3),

    CONSTRAINT "attempt_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "console_line" (
    "attempt_id" UUID NOT NULL,
    "seq" INTEGER NOT NULL,
    "offset_ms" INTEGER NOT NULL,
    "text" TEXT NOT NULL,

    CONSTRAINT "console_line_pkey" PRIMARY KEY ("attempt_id","seq")
);

-- CreateTable
CREATE TABLE "result" (
    "id" UUID NOT NULL,
    "cell_id" UUID NOT NULL,
    "attempt_id" UUID NOT NULL,
    "outcome" TEXT NOT NULL,
    "failure_class" TEXT,
    "reason" TEXT NOT NULL,
    "stage" TEXT NOT NULL,
    "duration_ms" INTEGER NOT NULL,
    "command" JSONB NOT NULL,
    "command_line" TEXT NOT NULL,
    "firmware" JSONB NOT NULL,
    "facts" JSONB NOT NULL,
    "evidence" JSONB NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "result_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "vendor_name_key" ON "vendor"("name");

-- CreateIndex
CREATE UNIQUE INDEX "image_vendor_id_sha256_key" ON "image"("vendor_id", "sha256");

-- CreateIndex
CREATE INDEX "run_vendor_id_created_at_idx" ON "run"("vendor_id", "created_at");

-- CreateIndex
CREATE INDEX "run_image_id_idx" ON "run"("image_id");

-- CreateIndex
CREATE UNIQUE INDEX "cell_run_id_key_key" ON "cell"("run_id", "key");

-- CreateIndex
CREATE UNIQUE INDEX "attempt_cell_id_number_key" ON "attempt"("cell_id", "number");

-- CreateIndex
CREATE UNIQUE INDEX "result_cell_id_key" ON "result"("cell_id");

-- CreateIndex
CREATE UNIQUE INDEX "result_attempt_id_key" ON "result"("attempt_id");

-- AddForeignKey
ALTER TABLE "image" ADD CONSTRAINT "image_vendor_id_fkey" FOREIGN KEY ("vendor_id") REFERENCES "vendor"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "run" ADD CONSTRAINT "run_vendor_id_fkey" FOREIGN KEY ("vendor_id") REFERENCES "vendor"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "run" ADD CONSTRAINT "run_image_id_fkey" FOREIGN KEY ("image_id") REFERENCES "image"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "cell" ADD CONSTRAINT "cell_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "run"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "attempt" ADD CONSTRAINT "attempt_cell_id_fkey" FOREIGN KEY ("cell_id") REFERENCES "cell"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "console_line" ADD CONSTRAINT "console_line_attempt_id_fkey" FOREIGN KEY ("attempt_id") REFERENCES "attempt"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "result" ADD CONSTRAINT "result_cell_id_fkey" FOREIGN KEY ("cell_id") REFERENCES "cell"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "result" ADD CONSTRAINT "result_attempt_id_fkey" FOREIGN KEY ("attempt_id") REFERENCES "attempt"("id") ON DELETE CASCADE ON UPDATE CASCADE;
