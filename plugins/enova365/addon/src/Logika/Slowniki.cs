// The enums the contract sends by name and accepts by name or number.
using System;

namespace OrderLink.Enova365.Logika
{
    /// <summary>Enum names in enum order, read by name (any case) or number.</summary>
    public static class Slowniki
    {
        /// <summary>PotwierdzenieDokumentuHandlowego: 0..3.</summary>
        public static readonly string[] Potwierdzenia =
            { "Niepotwierdzony", "Potwierdzony", "Zaakceptowany", "Odrzucony" };

        /// <summary>StanDokumentuHandlowego: 0..3.</summary>
        public static readonly string[] Stany = { "Bufor", "Zatwierdzony", "Zablokowany", "Anulowany" };

        /// <summary>The index of a name or number in names; -1 when unknown.</summary>
        public static int Indeks(string[] names, string raw)
        {
            if (raw == null) return -1;
            var s = raw.Trim();
            for (int i = 0; i < names.Length; i++)
                if (string.Equals(names[i], s, StringComparison.OrdinalIgnoreCase)) return i;
            int n;
            if (int.TryParse(s, System.Globalization.NumberStyles.None,
                    System.Globalization.CultureInfo.InvariantCulture, out n) && n < names.Length)
                return n;
            return -1;
        }
    }
}
