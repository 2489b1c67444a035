-- AlterTable
ALTER TABLE "image" ADD COLUMN     "inspection" JSONB;
