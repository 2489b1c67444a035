-- AlterTable
ALTER TABLE "cell" ADD COLUMN     "reason" TEXT;
