// The compare-and-set rule of UstawPotwierdzenia and the texts of its refusals.
using System;

namespace OrderLink.Enova365.Logika
{
    /// <summary>What to do with one change.</summary>
    public enum Decyzja
    {
        /// <summary>Write the new value.</summary>
        Zapisz,
        /// <summary>The document already has it: succeed without writing.</summary>
        BezZmian,
        /// <summary>Refuse (see the description).</summary>
        Odmowa,
    }

    /// <summary>The decision and, for a refusal, its description.</summary>
    public class Rozstrzygniecie
    {
        /// <summary>What to do.</summary>
        public Decyzja Decyzja;
        /// <summary>Why it is refused.</summary>
        public string Opis;
    }

    /// <summary>When a change of Potwierdzenie is written, skipped or refused.</summary>
    public static class ZasadaZapisu
    {
        /// <summary>Decides one change. The value the document already has always succeeds; then a
        /// compare-and-set that does not hold is refused; then a cancelled or locked document.</summary>
        public static Rozstrzygniecie Rozstrzygnij(string numer, string stan, string obecne, string cel, string oczekiwane)
        {
            int c = Slowniki.Indeks(Slowniki.Potwierdzenia, cel);
            if (c < 0) return Odmowa("Nieznana wartość Potwierdzenie: " + cel + ".");
            int o = Slowniki.Indeks(Slowniki.Potwierdzenia, obecne);
            if (o == c) return new Rozstrzygniecie { Decyzja = Decyzja.BezZmian };
            if (oczekiwane != null)
            {
                int e = Slowniki.Indeks(Slowniki.Potwierdzenia, oczekiwane);
                if (e < 0) return Odmowa("Nieznana wartość OczekiwanePotwierdzenie: " + oczekiwane + ".");
                if (e != o)
                    return Odmowa("Dokument " + numer + " został zmieniony przez innego użytkownika (Potwierdzenie "
                        + Nazwa(o) + ", oczekiwano " + Slowniki.Potwierdzenia[e] + ").");
            }
            switch (Slowniki.Indeks(Slowniki.Stany, stan))
            {
                case 3: return Odmowa("Dokument " + numer + " jest anulowany: nie można zmienić potwierdzenia.");
                case 2: return Odmowa("Dokument " + numer + " jest zablokowany: nie można zmienić potwierdzenia.");
                default: return new Rozstrzygniecie { Decyzja = Decyzja.Zapisz };
            }
        }

        /// <summary>The refusal for a document that does not exist.</summary>
        public static string NieZnaleziono(long? id, string obcy)
        {
            return id.HasValue
                ? "Nie znaleziono dokumentu ZO o ID " + id.Value + "."
                : "Nie znaleziono dokumentu ZO o numerze obcym '" + obcy + "'.";
        }

        /// <summary>The refusal for a failure from saving, by the exception's type name (Soneta's
        /// RowConflictException, AccessWriteDeniedException, ReadOnlyException, BusException,
        /// RowException), so that a conflict reads like a failed compare-and-set.</summary>
        public static string ZWyjatku(string numer, Exception e)
        {
            var typ = e.GetType().Name;
            switch (typ)
            {
                case "RowConflictException":
                    return "Dokument " + numer + " został zmieniony przez innego użytkownika (konflikt zapisu).";
                case "AccessWriteDeniedException":
                    return "Brak prawa zapisu dokumentu " + numer + ".";
                case "ReadOnlyException":
                    return "Dokument " + numer + " jest tylko do odczytu: nie można zmienić potwierdzenia.";
                default:
                    return "Dokument " + numer + ": odmowa zapisu (" + typ + "): " + e.Message;
            }
        }

        static string Nazwa(int i)
        {
            return i >= 0 ? Slowniki.Potwierdzenia[i] : "?";
        }

        static Rozstrzygniecie Odmowa(string opis)
        {
            return new Rozstrzygniecie { Decyzja = Decyzja.Odmowa, Opis = opis };
        }
    }
}
