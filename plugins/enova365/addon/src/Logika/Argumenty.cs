// Argument validation: the service's parameters become a checked query or list of changes, or a
// NieprawidlowyArgument naming the argument and what would be valid.
using System;
using System.Collections.Generic;

namespace OrderLink.Enova365.Logika
{
    /// <summary>An invalid argument: the whole call is refused with this message.</summary>
    public class NieprawidlowyArgument : ArgumentException
    {
        /// <summary>"Nieprawidłowy argument 'NAME': REASON."</summary>
        public NieprawidlowyArgument(string name, string reason)
            : base("Nieprawidłowy argument '" + name + "': " + reason + ".")
        {
        }
    }

    /// <summary>A checked PobierzZamowienia query.</summary>
    public class Zapytanie
    {
        /// <summary>Feed mode: after (ZmienioneOd, PoID); null: a listing by ID.</summary>
        public DateTimeOffset? ZmienioneOd;
        /// <summary>The keyset position's ID (0: from the start).</summary>
        public long PoID;
        /// <summary>Only these foreign numbers (null: all).</summary>
        public HashSet<string> ObcyNumery;
        /// <summary>Only documents dated on or after this day.</summary>
        public DateTime? UtworzoneOd;
        /// <summary>Only documents without a sales document.</summary>
        public bool TylkoNiezrealizowane;
        /// <summary>Leave out documents last changed by this operator (null: none).</summary>
        public string PominOperatora;
        /// <summary>Page size.</summary>
        public int Limit;
    }

    /// <summary>One checked change of UstawPotwierdzenia.</summary>
    public class ZmianaDoZapisu
    {
        /// <summary>The document's id, or null to find it by ObcyNumer.</summary>
        public long? ID;
        /// <summary>The foreign number (when no ID).</summary>
        public string ObcyNumer;
        /// <summary>The target value as sent (validated per document).</summary>
        public string Potwierdzenie;
        /// <summary>The expected value as sent, or null.</summary>
        public string OczekiwanePotwierdzenie;
    }

    /// <summary>Validation of the service's arguments.</summary>
    public static class Argumenty
    {
        /// <summary>The largest page.</summary>
        public const int MaxLimit = 500;
        /// <summary>The default page.</summary>
        public const int DomyslnyLimit = 100;
        /// <summary>The most changes one call takes.</summary>
        public const int MaxZmian = 100;

        /// <summary>Checks PobierzZamowienia arguments (null: all defaults).</summary>
        public static Zapytanie Zapytanie(ParametryZamowien p)
        {
            var q = new Zapytanie { Limit = DomyslnyLimit };
            if (p == null) return q;
            if (p.ZmienioneOd != null)
            {
                DateTimeOffset t;
                if (!Czas.TryParse(p.ZmienioneOd, out t))
                    throw new NieprawidlowyArgument("ZmienioneOd", "oczekiwano czasu ISO 8601, np. 2026-11-30T10:00:00+01:00");
                q.ZmienioneOd = t;
            }
            if (p.PoID.HasValue)
            {
                if (p.PoID.Value < 0) throw new NieprawidlowyArgument("PoID", "oczekiwano liczby nieujemnej");
                q.PoID = p.PoID.Value;
            }
            if (p.ObcyNumery != null)
            {
                q.ObcyNumery = new HashSet<string>();
                foreach (var o in p.ObcyNumery)
                {
                    if (o == null) throw new NieprawidlowyArgument("ObcyNumery", "oczekiwano tablicy tekstów");
                    q.ObcyNumery.Add(o.Trim());
                }
            }
            if (p.UtworzoneOd != null)
            {
                DateTime d;
                if (!Czas.TryParseDate(p.UtworzoneOd, out d))
                    throw new NieprawidlowyArgument("UtworzoneOd", "oczekiwano daty RRRR-MM-DD");
                q.UtworzoneOd = d;
            }
            q.TylkoNiezrealizowane = p.TylkoNiezrealizowane ?? false;
            if (p.PominOperatora != null && p.PominOperatora.Trim().Length > 0)
                q.PominOperatora = p.PominOperatora.Trim();
            if (p.Limit.HasValue)
            {
                if (p.Limit.Value < 1 || p.Limit.Value > MaxLimit)
                    throw new NieprawidlowyArgument("Limit", "wartość musi być od 1 do " + MaxLimit);
                q.Limit = p.Limit.Value;
            }
            return q;
        }

        /// <summary>Checks UstawPotwierdzenia arguments.</summary>
        public static List<ZmianaDoZapisu> Zmiany(ParametryZmian p)
        {
            if (p == null || p.Zmiany == null) throw new NieprawidlowyArgument("Zmiany", "oczekiwano tablicy zmian");
            if (p.Zmiany.Count > MaxZmian)
                throw new NieprawidlowyArgument("Zmiany", "najwyżej " + MaxZmian + " dokumentów w jednym wywołaniu, podano " + p.Zmiany.Count);
            var out_ = new List<ZmianaDoZapisu>(p.Zmiany.Count);
            for (int i = 0; i < p.Zmiany.Count; i++)
            {
                var z = p.Zmiany[i];
                var name = "Zmiany[" + i + "]";
                if (z == null) throw new NieprawidlowyArgument(name, "oczekiwano obiektu");
                var obcy = z.ObcyNumer == null ? "" : z.ObcyNumer.Trim();
                if (!z.ID.HasValue && obcy.Length == 0) throw new NieprawidlowyArgument(name, "podaj ID albo ObcyNumer dokumentu");
                if (z.Potwierdzenie == null || z.Potwierdzenie.Trim().Length == 0)
                    throw new NieprawidlowyArgument(name + ".Potwierdzenie", "brak wartości");
                out_.Add(new ZmianaDoZapisu
                {
                    ID = z.ID,
                    ObcyNumer = z.ID.HasValue ? null : obcy,
                    Potwierdzenie = z.Potwierdzenie.Trim(),
                    OczekiwanePotwierdzenie = z.OczekiwanePotwierdzenie == null || z.OczekiwanePotwierdzenie.Trim().Length == 0
                        ? null : z.OczekiwanePotwierdzenie.Trim(),
                });
            }
            return out_;
        }
    }
}
